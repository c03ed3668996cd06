"""The optional model: an OpenAI-compatible chat endpoint asked only when the rules end at UNKNOWN.

Configured by SALESBOT_LLM_BASE_URL / SALESBOT_LLM_MODEL / SALESBOT_LLM_API_KEY / SALESBOT_LLM_TIMEOUT
(settings, as `ModelSettings`). It is told the message and the names the sender may see (the sender's lexicon), nothing else;
it answers with the same structure as Understanding, in JSON, which is validated like any user input:
the intent must be one we know, every name is re-resolved in the sender's lexicon (a name outside it is
dropped, as if never said), amounts and times go through the command parsers. Any failure — timeout,
HTTP error, malformed JSON — returns the rules' answer unchanged: the bot works the same without it.

Where the call happens: `refine` is the only method that does I/O and it needs no database session (the
lexicon is in memory), so a caller can run `understand_rules` inside its transaction and `refine` after
the transaction is closed.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from services.config import BusinessConfig
from services.parsing.amounts import parse_amount
from services.parsing.text import ParseError, normalize_text
from services.parsing.timeparse import parse_when
from services.understanding.lexicon import Lexicon
from services.understanding.resolve import resolve
from services.understanding.types import Intent, Understanding

if TYPE_CHECKING:
    from models import User

log = logging.getLogger(__name__)


class ModelSettings(Protocol):
    """What the model client reads from the settings (chat.settings.Settings has these fields); a protocol so
    the service layer does not import the edge."""

    salesbot_llm_base_url: str | None
    salesbot_llm_model: str | None
    salesbot_llm_api_key: str | None
    salesbot_llm_timeout: float


_SYSTEM = (
    "你是企业微信销售助手的意图解析器。根据用户消息，只输出一个 JSON 对象，不要输出其他文字。"
    "字段：intent（取值之一：{intents}）、customer（客户名称，必须来自给出的名单）、contact、opportunity、"
    "amount（人民币元，数字）、when（时间，中文如“下周三上午10点”或 ISO 8601）、period（today/week/month）、"
    "stage、person（同事姓名）、region、quote_id（整数）、text（拜访纪要/跟进事项/商机名称/原因）、confidence（0-1）。"
    "不确定的字段写 null；名单里没有的名字不要编造。"
)
_JSON_OBJECT = re.compile(r"\{.*\}", re.S)
_MAX_TEXT = 500


@dataclass(frozen=True)
class ModelClient:
    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 3.0

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> ModelClient | None:
        """None unless both a base URL and a model name are configured."""
        base = getattr(settings, "salesbot_llm_base_url", None)
        model = getattr(settings, "salesbot_llm_model", None)
        if not base or not model:
            return None
        return cls(
            base_url=str(base).rstrip("/"),
            model=str(model),
            api_key=getattr(settings, "salesbot_llm_api_key", None) or None,
            timeout=float(getattr(settings, "salesbot_llm_timeout", 3.0)),
        )

    def ask(self, *, text: str, names: dict[str, list[str]]) -> dict[str, Any] | None:
        """The model's JSON object for `text`, or None on any failure (logged without the message)."""
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": _SYSTEM.format(intents="、".join(i.value for i in Intent))},
                {
                    "role": "user",
                    "content": json.dumps({"message": text, "names": names}, ensure_ascii=False),
                },
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.post(
                f"{self.base_url}/chat/completions", json=body, headers=headers, timeout=self.timeout
            )
            response.raise_for_status()
            message = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("understanding model call failed: %s", type(exc).__name__)
            return None
        m = _JSON_OBJECT.search(str(message))
        if m is None:
            return None
        try:
            data = json.loads(m[0])
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def refine(
        self,
        found: Understanding,
        *,
        text: str,
        lexicon: Lexicon,
        user: User,
        now: datetime,
        tz: ZoneInfo,
        config: BusinessConfig,
    ) -> Understanding:
        """The model's reading of `text`, validated and re-resolved in `lexicon`; `found` if it has none."""
        data = self.ask(text=normalize_text(text), names=lexicon.names_for_model())
        if data is None:
            return found
        return validate(data, found=found, lexicon=lexicon, user=user, now=now, tz=tz, config=config)


def _str(value: Any, limit: int = 64) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    s = normalize_text(str(value))[:limit]
    return s or None


def _amount(value: Any) -> Decimal | None:
    s = _str(value, 32)
    if s is None:
        return None
    try:
        return parse_amount(s)
    except ParseError:
        return None


def _when(value: Any, now: datetime, tz: ZoneInfo) -> datetime | None:
    s = _str(value, 40)
    if s is None:
        return None
    try:
        when = datetime.fromisoformat(s)
        when = when.replace(tzinfo=tz) if when.tzinfo is None else when
    except ValueError:
        try:
            when = parse_when(s, now=now, tz=tz)
        except ParseError:
            return None
    if abs(when - now) > timedelta(days=3 * 366):
        return None
    return when.astimezone(tz)


def validate(
    data: dict[str, Any],
    *,
    found: Understanding,
    lexicon: Lexicon,
    user: User,
    now: datetime,
    tz: ZoneInfo,
    config: BusinessConfig,
) -> Understanding:
    """Turn a model's JSON into an Understanding, trusting nothing: unknown values become empty."""
    try:
        intent = Intent(str(data.get("intent")))
    except ValueError:
        return found
    if intent is Intent.UNKNOWN:
        return found
    customer_ids: tuple[int, ...] = ()
    contact = None
    name = _str(data.get("customer"), 128)
    if name:
        customer_ids = resolve(name.lower(), lexicon).customer_ids
    contact_name = _str(data.get("contact"))
    if contact_name and contact_name.lower() in lexicon.contacts:
        owners = lexicon.contacts[contact_name.lower()]
        if not customer_ids:
            customer_ids = tuple(sorted(owners))
        if set(customer_ids) & owners:
            contact = next(lexicon.customers[c].contact for c in customer_ids if c in owners)
    opportunity_ids: tuple[int, ...] = ()
    opp = _str(data.get("opportunity"), 128)
    if opp:
        opportunity_ids = tuple(
            o.id
            for o in lexicon.opportunities.values()
            if o.name.lower() == opp.lower() and (not customer_ids or o.customer_id in customer_ids)
        )
    person = _str(data.get("person"))
    person_userid = next((uid for uid, n in lexicon.people.items() if person and n == person), None)
    region = _str(data.get("region"))
    stage = _str(data.get("stage"))
    period = _str(data.get("period"))
    quote_id = data.get("quote_id")
    try:
        confidence = min(max(float(data.get("confidence") or 0.5), 0.0), 0.8)
    except (TypeError, ValueError):
        confidence = 0.5
    return Understanding(
        intent=intent,
        customer_ids=customer_ids,
        contact=contact,
        opportunity_ids=opportunity_ids,
        amount=_amount(data.get("amount")),
        when=_when(data.get("when"), now, tz),
        period=period if period in ("today", "week", "month") else None,
        stage=stage if stage in (*config.stages, config.lost_stage) else None,
        person_userid=person_userid,
        quote_id=quote_id if isinstance(quote_id, int) and 0 < quote_id < 10**9 else None,
        region=region if region in lexicon.regions else None,
        text=_str(data.get("text"), _MAX_TEXT) or "",
        source="model",
        confidence=confidence,
        did_you_mean=found.did_you_mean,
        mention=found.mention,
    )
