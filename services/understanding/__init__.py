"""Understanding free-form Chinese: what a message wants and which records it names, within scope.

    found = understand(session, user=user, text="刚从金桥回来，吴工说下周三要看样品", now=now, config=config)
    found.intent is Intent.VISIT; found.customer_ids == (金桥's id,); found.when == next Wednesday 09:00

See docs/understanding.md.
"""

from services.understanding.engine import understand, understand_rules
from services.understanding.model import ModelClient
from services.understanding.types import WRITE_INTENTS, Intent, Understanding

__all__ = ["WRITE_INTENTS", "Intent", "ModelClient", "Understanding", "understand", "understand_rules"]
