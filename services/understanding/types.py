"""What the understanding step returns: an intent and the entities it found, resolved within scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Intent(StrEnum):
    """What the sender wants. The values are the intent names of the free-form corpus."""

    VISIT = "visit"
    FOLLOWUP = "followup"
    NEW_CUSTOMER = "new_customer"
    NEW_OPPORTUNITY = "new_opportunity"
    ADVANCE = "advance"
    SCORE = "score"
    QUOTE = "quote"
    CONTRACT = "contract"
    PAYMENT = "payment"
    LOST = "lost"
    APPROVE = "approve"
    REJECT = "reject"
    REASSIGN = "reassign"
    LEAD = "lead"
    QUERY_CUSTOMER = "query.customer"
    QUERY_CONTACT = "query.contact"
    QUERY_MY_CUSTOMERS = "query.my_customers"
    QUERY_MY_OPPORTUNITIES = "query.my_opportunities"
    QUERY_MY_TODO = "query.my_todo"
    QUERY_MY_NUMBERS = "query.my_numbers"
    QUERY_QUOTE_STATUS = "query.quote_status"
    QUERY_TEAM_TODAY = "query.team_today"
    QUERY_REP_TODAY = "query.rep_today"
    QUERY_REGION = "query.region"
    QUERY_PENDING_QUOTES = "query.pending_quotes"
    SMALLTALK = "smalltalk"
    HELP = "help"
    UNKNOWN = "unknown"

    @property
    def writes(self) -> bool:
        """True for intents that would change data (a free-form one is proposed on a card first)."""
        return self in WRITE_INTENTS

    @property
    def is_query(self) -> bool:
        return self.value.startswith("query.")


WRITE_INTENTS = frozenset(
    {
        Intent.VISIT,
        Intent.FOLLOWUP,
        Intent.NEW_CUSTOMER,
        Intent.NEW_OPPORTUNITY,
        Intent.ADVANCE,
        Intent.SCORE,
        Intent.QUOTE,
        Intent.CONTRACT,
        Intent.PAYMENT,
        Intent.LOST,
        Intent.APPROVE,
        Intent.REJECT,
        Intent.REASSIGN,
        Intent.LEAD,
    }
)


@dataclass(frozen=True)
class Understanding:
    """One message, understood. Every id is within the sender's scope; more than one id means "ask which".

    Fields beyond the shared contract: `items` (score-card items that hold), `did_you_mean` (a name was
    matched only approximately — a typo or a homophone — so the answer should ask before acting),
    `mention` (the name as typed, when it resolved to nothing or only approximately), `command` (the
    command word when the message was written as a command, e.g. "拜访" for `拜访：金桥，…`).
    """

    intent: Intent
    customer_ids: tuple[int, ...] = ()
    contact: str | None = None
    opportunity_ids: tuple[int, ...] = ()
    amount: Decimal | None = None
    when: datetime | None = None
    period: str | None = None
    stage: str | None = None
    person_userid: str | None = None
    quote_id: int | None = None
    region: str | None = None
    text: str = ""
    command_typo: str | None = None
    source: str = "rules"
    confidence: float = 1.0
    items: tuple[str, ...] = ()
    did_you_mean: bool = False
    mention: str | None = None
    command: str | None = None
