"""One intent per message, decided in a fixed order from the cue words and the entities found."""

from __future__ import annotations

from dataclasses import dataclass

from services.understanding import cues
from services.understanding.types import Intent


@dataclass(frozen=True)
class Signals:
    """What the classifier may look at, besides the text: found or not, never which."""

    has_customer: bool
    has_contact: bool
    has_opportunity: bool
    other_person: bool  # a colleague named (not the sender)
    has_region: bool
    has_amount: bool
    has_stage: bool
    has_quote_id: bool
    score_items: int
    future_time: bool
    # Something was done (了) before the first future time: a report with a next step.
    past_first: bool = False
    # Characters left once the names are taken out (a bare name leaves almost nothing).
    rest_len: int = 0


def classify(text: str, s: Signals) -> tuple[Intent, float]:
    """(intent, confidence) for a free-form message (normalised, lower-case)."""
    bare = cues.PUNCT_SPACE.sub("", text)
    if not bare or cues.SMALLTALK.match(bare):
        return Intent.SMALLTALK, 1.0
    if cues.HELP.search(text) and not s.has_customer:
        return Intent.HELP, 1.0
    if cues.REJECT.search(text):
        return Intent.REJECT, 1.0 if s.has_quote_id else 0.7
    if cues.APPROVE.search(text) and s.has_quote_id:
        return Intent.APPROVE, 1.0

    question = bool(cues.QUESTION.search(text))
    strong_query = bool(
        cues.PENDING_QUOTES.search(text)
        or cues.TEAM_TODAY.search(text)
        or cues.LIST_Q.search(bare)
        or cues.TODO_NOUN.search(bare)
        or cues.NUMBERS_NOUN.search(text)
        or text.startswith("待办")
        or (
            cues.CONTACT_Q.search(text)
            and (s.has_contact or s.has_customer or (len(bare) <= 10 and cues.CONTACT_ASK.search(bare)))
            and len(bare) <= 15
            and not cues.REMINDER.search(text)
        )
    )
    if question or strong_query:
        found = _query(text, s)
        if found is not None:
            return found, 1.0
    write = _write(text, s)
    if write is not None:
        return write
    if question:
        if s.has_customer or s.has_contact:
            return Intent.QUERY_CUSTOMER, 0.7
        return Intent.UNKNOWN, 0.3
    if s.has_customer and len(bare) <= 12 and (s.rest_len <= 2 or cues.CUSTOMER_Q.search(text)):
        return Intent.QUERY_CUSTOMER, 0.7  # just a name (and maybe what about it): show that customer
    return Intent.UNKNOWN, 0.3


def _query(text: str, s: Signals) -> Intent | None:
    if cues.PENDING_QUOTES.search(text):
        return Intent.QUERY_PENDING_QUOTES
    if cues.QUOTE_STATUS.search(text):
        return Intent.QUERY_QUOTE_STATUS
    if cues.TEAM_TODAY.search(text):
        return Intent.QUERY_TEAM_TODAY
    if s.other_person and cues.REP_ACTIVITY.search(text):
        return Intent.QUERY_REP_TODAY
    if s.has_region and not s.has_customer and (cues.REGION_Q.search(text) or cues.MY_NUMBERS.search(text)):
        # 华东这个月回款多少: figures asked about a named region are that region's, not the asker's own
        return Intent.QUERY_REGION
    if cues.MY_NUMBERS.search(text) and not s.has_customer:
        return Intent.QUERY_MY_NUMBERS
    if cues.CONTACT_Q.search(text):
        return Intent.QUERY_CONTACT
    if s.has_customer and (cues.CUSTOMER_Q.search(text) or not cues.MY_TODO.search(text)):
        return Intent.QUERY_CUSTOMER
    if cues.MY_TODO.search(text):
        return Intent.QUERY_MY_TODO
    if cues.MY_OPPS.search(text):
        return Intent.QUERY_MY_OPPORTUNITIES
    if cues.MY_CUSTOMERS.search(text):
        return Intent.QUERY_MY_CUSTOMERS
    if cues.CUSTOMER_Q.search(text):
        return Intent.QUERY_CUSTOMER
    return None


def _write(text: str, s: Signals) -> tuple[Intent, float] | None:
    visit_strong = bool(cues.VISIT_STRONG.search(text))
    if cues.REASSIGN.search(text) and s.other_person and s.has_customer:
        return Intent.REASSIGN, 1.0
    if cues.REMINDER.search(text):
        return Intent.FOLLOWUP, 1.0
    if s.score_items and not visit_strong:
        return Intent.SCORE, 0.9
    if visit_strong:
        return Intent.VISIT, 1.0
    if cues.LOST.search(text):
        return Intent.LOST, 0.9
    if cues.PAYMENT.search(text) and (s.has_amount or "到" in text):
        return Intent.PAYMENT, 0.9
    if cues.CONTRACT.search(text):
        return Intent.CONTRACT, 0.9
    if cues.QUOTE.search(text) and cues.WITHDRAW.search(text):
        return None  # 撤回报价 is the 撤回 command's, not a new quote
    if cues.QUOTE.search(text) and (s.has_amount or s.has_opportunity or s.has_customer):
        return Intent.QUOTE, 0.9
    if s.has_stage and cues.ADVANCE.search(text):
        return Intent.ADVANCE, 0.9
    if cues.NEW_OPP.search(text):
        return Intent.NEW_OPPORTUNITY, 0.9
    if cues.VISIT_WEAK.search(text) and (s.has_customer or s.has_contact):
        return Intent.VISIT, 0.8
    if cues.NEW_CUSTOMER.search(text) and not s.has_customer:
        return Intent.NEW_CUSTOMER, 0.8
    if cues.LEAD.search(text) and not s.has_customer:
        return Intent.LEAD, 0.7
    if (s.has_customer or s.has_contact) and s.future_time and not s.past_first:
        return Intent.FOLLOWUP, 0.7  # something with a customer at a later time: a reminder to offer
    if s.has_customer and "了" in text and len(text) > 8:
        return Intent.VISIT, 0.6
    return None
