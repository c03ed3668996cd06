"""understand(): a message in, an Understanding out. Rules first; a model only when the rules cannot decide.

The rules read the sender's lexicon (lexicon.py: the names in scope), find the values (extract.py) and the
names (resolve.py), pick one intent (intents.py) and keep the words that matter as `text` (content.py).
`understand_rules` never calls a model and is all the embedded default needs; `understand` adds the
optional model for what the rules leave UNKNOWN (see model.py for where that call may happen).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models import User
from services.config import BusinessConfig
from services.understanding import content, cues
from services.understanding.commands import COMMANDS, OTHER_COMMANDS
from services.understanding.extract import (
    Found,
    find_amounts,
    find_period,
    find_quote_id,
    find_score_items,
    find_stage,
    find_times,
)
from services.understanding.intents import Signals, classify
from services.understanding.lexicon import CUSTOMER, Lexicon, lexicon_for
from services.understanding.resolve import Entities, fuzzy_opportunities, resolve
from services.understanding.types import Intent, Understanding

if TYPE_CHECKING:
    from services.understanding.model import ModelClient

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SEPARATORS = "\\s，,：:。、；;！!"
_HEAD = re.compile(rf"^([^{_SEPARATORS}]+)[{_SEPARATORS}]+(.*)$|^([^{_SEPARATORS}]+)$", re.S)
_NEEDS_OPPORTUNITY = {Intent.QUOTE, Intent.ADVANCE, Intent.LOST, Intent.CONTRACT, Intent.SCORE}
_NO_VALUES = {Intent.SMALLTALK, Intent.HELP, Intent.UNKNOWN}


def _command_head(text: str) -> tuple[str, str, str | None] | None:
    """(command word, arguments, typo) when the message is written as a command, else None.

    `拜访：金桥，…` and `拜访 金桥 …` are commands; `拜访了金桥` is a sentence. A first word one character
    off a two-character command (拜放) is that command with `typo` set, so the answer can ask once.
    """
    m = _HEAD.match(text)
    if m is None:
        return None
    head, rest = (m[1], m[2]) if m[1] is not None else (m[3], "")
    if head in COMMANDS:
        return head, rest.strip(), None
    if head in OTHER_COMMANDS:
        return head, rest.strip(), None
    if len(head) == 2 and rest:
        for word in COMMANDS:
            if (
                len(word) == 2
                and sum(a != b for a, b in zip(word, head, strict=True)) == 1
                and not word.isascii()
            ):
                return word, rest.strip(), word
    return None


def _glued_command(text: str, lex: Lexicon) -> tuple[str, str, str | None] | None:
    """`拜访蓝天 …`: a command word written straight before a customer's name is that command."""
    for word in COMMANDS:
        if len(word) >= 2 and not word.isascii() and text.startswith(word) and len(text) > len(word):
            rest = text[len(word) :]
            if any(hit.kind == CUSTOMER and hit.start == 0 for hit in lex.hits(rest)):
                return word, rest, None
    return None


def understand_rules(
    session: Session,
    *,
    user: User,
    text: str,
    now: datetime,
    tz: ZoneInfo,
    config: BusinessConfig,
    expecting: Intent | None = None,
) -> tuple[Understanding, Lexicon]:
    """The embedded understanding: no network. Also returns the lexicon the model step re-resolves with."""
    lex = lexicon_for(session, user=user)
    return _understand(lex, user=user, text=text, now=now, tz=tz, config=config, expecting=expecting), lex


def understand(
    session: Session,
    *,
    user: User,
    text: str,
    now: datetime,
    tz: ZoneInfo,
    config: BusinessConfig,
    model: ModelClient | None = None,
    expecting: Intent | None = None,
) -> Understanding:
    """What `text` from `user` means, everything resolved within the user's scope.

    `expecting`: the intent an open dialog waits for (a reject reason): the reply is taken as its answer.
    `model`: asked only when the rules end at UNKNOWN; this makes an HTTP call, so call `understand` outside
    a database transaction, or split it: `understand_rules` inside, then `ModelClient.refine` outside.
    """
    found, lex = understand_rules(
        session, user=user, text=text, now=now, tz=tz, config=config, expecting=expecting
    )
    if model is None or found.intent is not Intent.UNKNOWN:
        return found
    return model.refine(found, text=text, lexicon=lex, user=user, now=now, tz=tz, config=config)


def _fold(ch: str) -> str:
    """One character as matched: NFKC (full-width → half-width) and lower-case, when that stays one character."""
    folded = unicodedata.normalize("NFKC", ch).lower()
    return folded if len(folded) == 1 else ch


def _texts(text: str) -> tuple[str, str]:
    """(shown, match): the message as typed and its folded copy, of the same length (spans apply to both)."""
    shown = _INVISIBLE.sub("", text).strip()
    return shown, "".join(_fold(ch) for ch in shown)


def _understand(
    lex: Lexicon,
    *,
    user: User,
    text: str,
    now: datetime,
    tz: ZoneInfo,
    config: BusinessConfig,
    expecting: Intent | None,
) -> Understanding:
    shown, norm = _texts(text)
    if not norm.strip():
        return Understanding(Intent.SMALLTALK, text="")
    if expecting is not None:
        head = _command_head(norm)
        if not (head and not head[1]) and norm not in ("取消", "算了", "不用了"):
            return Understanding(expecting, text=shown, confidence=1.0)

    command = _command_head(norm) or _glued_command(norm, lex)
    body = command[1] if command else norm
    offset = len(norm) - len(body)
    shown_body = shown[offset:]

    amounts = find_amounts(body)
    times = find_times(body, now=now, tz=tz)
    quote = find_quote_id(body)
    blocked = [f.span for f in amounts] + [t.span for t in times] + ([quote.span] if quote else [])
    name_token = None
    if command:
        first = re.split(f"[{_SEPARATORS}]+", body, maxsplit=1)[0]
        name_token = first if first and not any(t.span[0] == 0 for t in times) else None
    ents = resolve(body, lex, blocked=blocked, name_token=name_token)
    stage = find_stage(body, config=config)
    items = find_score_items(body, config=config)
    future = [t for t in times if t.when > now]

    if command:
        intent, confidence = COMMANDS.get(command[0], Intent.UNKNOWN), 1.0
        if command[2] is not None:
            # A mistyped command word is not guessed into a write: UNKNOWN with command_typo, so that the
            # answer asks "是要…吗？" once (the entities found in its arguments are kept).
            intent, confidence = Intent.UNKNOWN, 0.6
        if command[0] == "客户" and not body:
            intent = Intent.QUERY_MY_CUSTOMERS
    else:
        signals = Signals(
            has_customer=bool(ents.customer_ids),
            has_contact=ents.contact is not None,
            has_opportunity=bool(ents.opportunity_ids),
            other_person=ents.person_userid is not None and ents.person_userid != user.userid,
            has_region=ents.region is not None,
            has_amount=bool(amounts),
            has_stage=stage is not None,
            has_quote_id=quote is not None,
            score_items=len(items),
            future_time=bool(future),
            past_first=bool(future) and "了" in body[: future[0].span[0]],
        )
        cue_text = _cue_text(body, ents, stage)
        rest = cues.PUNCT_SPACE.sub("", cue_text.replace("某", ""))
        intent, confidence = classify(cue_text, replace(signals, rest_len=len(rest)))
    if ents.did_you_mean:
        confidence = min(confidence, 0.6)

    opportunity_ids = ents.opportunity_ids
    if intent in _NEEDS_OPPORTUNITY and not opportunity_ids:
        opportunity_ids = _opportunities_of(body, lex, ents)
    customer_ids = ents.customer_ids
    if intent in (Intent.SMALLTALK, Intent.HELP):
        customer_ids, opportunity_ids = (), ()
    return Understanding(
        intent=intent,
        customer_ids=customer_ids,
        contact=ents.contact,
        opportunity_ids=tuple(opportunity_ids),
        amount=amounts[0].value if amounts and intent not in _NO_VALUES else None,  # type: ignore[arg-type]
        when=_pick_time(intent, times, future, now, tz, body),
        period=find_period(norm) if intent.is_query else None,
        stage=str(stage.value) if stage and intent is Intent.ADVANCE else None,
        person_userid=ents.person_userid
        if ents.person_userid != user.userid or intent is Intent.REASSIGN
        else None,
        quote_id=int(quote.value) if quote else None,  # type: ignore[call-overload]
        region=ents.region,
        text=content.text_for(
            intent,
            shown_body,
            body,
            ents=ents,
            amounts=amounts,
            times=times,
            quote=quote,
            command=command is not None,
            field_labels=tuple(f.label for f in config.customer_fields if f.key != "name"),
        ),
        command_typo=command[2] if command else None,
        confidence=confidence,
        items=tuple(str(f.value) for f in items) if intent is Intent.SCORE else (),
        did_you_mean=ents.did_you_mean,
        mention=ents.mention or _unresolved_mention(intent, ents, name_token, body),
        command=command[0] if command else None,
    )


def _cue_text(body: str, ents: Entities, stage: Found | None) -> str:
    """The message with its names neutralised, so that a name never reads as a cue word (a stage called
    报价审批 is not a quote request; a project called 回款系统 is not a payment)."""
    spans = sorted(
        [(s, "某") for s in ents.all_spans()] + ([(stage.span, "阶段")] if stage else []),
        key=lambda item: item[0][0],
    )
    out, pos = [], 0
    for (start, end), word in spans:
        if start < pos:
            continue
        out.append(body[pos:start] + word)
        pos = end
    out.append(body[pos:])
    return "".join(out)


# What the rep will do at the follow-up time, right after it (`周五下午打电话`, `周五下午给他打电话`): with several
# times in a sentence, the one so attached is the follow-up's; a deadline (`月底定型号`) stays in the note.
_FOLLOWUP_ACTION = re.compile(
    r"[\s，,]*(?:再|要|会|就|还)?(?:给(?:他|她|他们|客户|对方)?|跟(?:他|她|他们|客户|对方)?|和(?:他|她|他们|客户|对方)?)?"
    r"(?:打个?电话|电话|打过去|跟进|回访|再去|再过去|过去|上门|约|拜访|联系|见面|碰个?面|沟通|送样|演示|去)"
)


def _attached(times: list, body: str) -> list:  # type: ignore[type-arg]
    """`times`, those followed by a follow-up action first (stable otherwise)."""
    return sorted(times, key=lambda t: 0 if _FOLLOWUP_ACTION.match(body, t.span[1]) else 1)


def _pick_time(
    intent: Intent, times: list, future: list, now: datetime, tz: ZoneInfo, body: str
) -> datetime | None:  # type: ignore[type-arg]
    if intent.is_query or intent in _NO_VALUES:
        return None
    if intent is Intent.VISIT:
        # The visit itself happened today; a later day mentioned in the note is the next step to offer.
        today = now.astimezone(tz).date()
        later = [t for t in future if t.has_date and t.when.astimezone(tz).date() > today]
        return _attached(later, body)[0].when if later else None
    if future:
        return _attached(future, body)[0].when  # type: ignore[no-any-return]
    return times[0].when if times and intent is Intent.FOLLOWUP else None


def _opportunities_of(body: str, lex: Lexicon, ents: Entities) -> tuple[int, ...]:
    """The project meant when none was named exactly: a loose match, else the customer's only open one."""
    if not ents.customer_ids:
        return ()
    loose = fuzzy_opportunities(body, lex, ents.customer_ids)
    if loose:
        return loose
    return tuple(o.id for o in lex.opportunities.values() if o.open and o.customer_id in ents.customer_ids)


_NAMED_INTENTS = {
    Intent.VISIT,
    Intent.FOLLOWUP,
    Intent.NEW_OPPORTUNITY,
    Intent.QUOTE,
    Intent.CONTRACT,
    Intent.PAYMENT,
    Intent.LOST,
    Intent.ADVANCE,
    Intent.SCORE,
    Intent.REASSIGN,
    Intent.QUERY_CUSTOMER,
    Intent.QUERY_CONTACT,
}


# Where a question about a customer stops naming it: 粤丰|的电话多少, 恒通|最近谁在跟.
_NAME_END = re.compile(
    r"的|那边|这边|那个|这个|现在|最近|目前|电话|手机|联系|微信|地址|在哪|情况|进展|怎么|什么|啥|谁|有没有|是不是|吗|呢"
)
_LEADING_CUE = re.compile(r"^(?:客户|请问|帮我|麻烦|查一下|查查|看看|问一下|我想知道)+")


def _unresolved_mention(intent: Intent, ents: Entities, name_token: str | None, body: str) -> str | None:
    """The word written where a name goes that named nothing in scope (for 没有找到客户「…」): a command's name
    argument, or the head of a question about a customer or a contact."""
    if ents.customer_ids or ents.contact or intent not in _NAMED_INTENTS:
        return None
    if name_token or intent not in (Intent.QUERY_CUSTOMER, Intent.QUERY_CONTACT):
        return name_token
    head = _LEADING_CUE.sub("", body)
    end = _NAME_END.search(head)
    word = head[: end.start()] if end else ""
    return word if 2 <= len(word) <= 12 and re.fullmatch(r"[\u4e00-\u9fffa-z0-9]+", word) else None
