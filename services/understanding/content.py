"""The words of a message that are its content: a visit note, a follow-up title, a project name, a reason.

What is removed is what the other fields already hold (the time of a follow-up, the amount of a quote, the
customer written as a separate word) and the cue words that only said what to do (提醒我, 报个价). A visit
note keeps the whole sentence: it is what the rep said, and the card shows it before anything is written.
The result is cut from the message as typed (full-width commas, upper-case MES); matching ran on a folded
copy of the same length, so every span found there applies here unchanged.
"""

from __future__ import annotations

import re

from services.understanding import cues
from services.understanding.commands import COMMANDS
from services.understanding.extract import Found, Span, TimeFound
from services.understanding.lexicon import CUSTOMER, OPPORTUNITY
from services.understanding.resolve import Entities
from services.understanding.types import Intent

_SEPARATOR = re.compile(r"[，,。；;！!？?、\s]+")
_PUNCT = " \t\n，,。；;！!？?、：:~～…"
_NAME_EDGE = _PUNCT + "的个了吧给要和跟说在"
_HEDGE_BEFORE = re.compile(r"(?:大概|大约|预计|估计|预算|金额|差不多|约|大致|总共|一共|共)\s*$")


class _Doc:
    """The message as typed (`shown`) and folded (`match`, same length), and which characters are kept."""

    def __init__(self, shown: str, match: str) -> None:
        self.shown, self.match = shown, match
        self.keep = [True] * len(match)

    def drop(self, spans: list[Span]) -> _Doc:
        for start, end in spans:
            for i in range(max(start, 0), min(end, len(self.keep))):
                self.keep[i] = False
        return self

    def drop_words(self, pattern: re.Pattern[str]) -> _Doc:
        return self.drop([m.span() for m in pattern.finditer(self.match) if m.end() > m.start()])

    def clauses(self) -> list[tuple[str, str]]:
        """(shown, match) of each run of kept characters between separators."""
        shown = "".join(c for c, k in zip(self.shown, self.keep, strict=True) if k)
        match = "".join(c for c, k in zip(self.match, self.keep, strict=True) if k)
        out, pos = [], 0
        for m in _SEPARATOR.finditer(match):
            if m.start() > pos:
                out.append((shown[pos : m.start()], match[pos : m.start()]))
            pos = m.end()
        if pos < len(match):
            out.append((shown[pos:], match[pos:]))
        return out

    def text(self, edge: str = _PUNCT) -> str:
        shown = "".join(c for c, k in zip(self.shown, self.keep, strict=True) if k)
        return _collapse(shown).strip(edge)


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _strip(clause: tuple[str, str], edge: str) -> str:
    shown, match = clause
    lead = len(match) - len(match.lstrip(edge))
    tail = len(match.rstrip(edge))
    return shown[lead:tail] if tail > lead else ""


def _amount_spans(match: str, amounts: list[Found]) -> list[Span]:
    """An amount and the hedge word before it (大概25万, 预算四十万左右)."""
    out = []
    for f in amounts:
        start, end = f.span
        m = _HEDGE_BEFORE.search(match[:start])
        out.append((m.start() if m else start, end))
    return out


def text_for(
    intent: Intent,
    shown: str,
    match: str,
    *,
    ents: Entities,
    amounts: list[Found],
    times: list[TimeFound],
    quote: Found | None,
    command: bool,
    field_labels: tuple[str, ...] = (),
) -> str:
    """The content for `intent`: `shown` is the message (or a command's arguments) as typed, `match` folded.

    For a new customer said as a sentence, the content is ready for the 新客户 command: the name, then
    `字段=值` for every configured field the sentence gives (联系人周工 → 联系人=周工; a mobile number → 电话=…).
    """
    customer_spans = ents.spans.get(CUSTOMER, [])
    name_spans = customer_spans + ents.spans.get(OPPORTUNITY, [])
    quote_spans = [quote.span] if quote else []
    doc = _Doc(shown, match)
    if intent is Intent.VISIT:
        if command:
            doc.drop(_first_word_if_name(match, customer_spans))
        return doc.drop_words(cues.FILLERS).text()
    if intent is Intent.FOLLOWUP:
        doc.drop([t.span for t in times]).drop_words(cues.REMINDER_WORDS)
        doc.drop([s for s in customer_spans if _stands_alone(match, s)])
        return doc.text()
    if intent is Intent.NEW_OPPORTUNITY:
        doc.drop(customer_spans + _amount_spans(match, amounts)).drop_words(cues.NEW_OPP_WORDS)
        parts = [_strip(c, _NAME_EDGE) for c in doc.clauses()]
        parts = [p for p in parts if len(p) >= 2]
        return max(parts, key=len) if parts else ""
    if intent is Intent.QUOTE:
        doc.drop(name_spans + _amount_spans(match, amounts) + quote_spans).drop_words(cues.QUOTE_WORDS)
        return " ".join(p for p in (_strip(c, _NAME_EDGE) for c in doc.clauses()) if p)
    if intent is Intent.LOST:
        doc.drop(name_spans).drop_words(cues.LOST_WORDS)
        reason = " ".join(p for p in (_strip(c, _PUNCT + "的了") for c in doc.clauses()) if p)
        return reason or _Doc(shown, match).text()
    if intent is Intent.REJECT:
        doc.drop(quote_spans)
        if not command:
            doc.drop_words(cues.REJECT)
        return doc.text()
    if intent is Intent.NEW_CUSTOMER and not command:
        doc.drop_words(cues.NEW_CUSTOMER_WORDS).drop_words(cues.REQUEST_WORDS)
        return _customer_fields([_strip(c, _PUNCT + "的") for c in doc.clauses()], field_labels)
    if intent in (Intent.NEW_CUSTOMER, Intent.LEAD):
        return doc.drop_words(cues.NEW_CUSTOMER_WORDS).text()
    if intent is Intent.HELP:
        return next(
            (w for w in sorted(COMMANDS, key=len, reverse=True) if w in match and not w.isascii()), ""
        )
    return ""


def _first_word_if_name(match: str, customer_spans: list[Span]) -> list[Span]:
    """A command's first argument when it is the customer (拜访 宏达，陆经理… → 陆经理…)."""
    m = re.match(r"^[^\s，,：:。、；;]+", match)
    if m is None:
        return []
    if not customer_spans or customer_spans[0][0] == 0:
        return [(0, m.end())]
    return []


def _stands_alone(match: str, span: Span) -> bool:
    """A name written as its own word (华瑞 后天 催一下): between separators or at the ends."""
    start, end = span
    before = match[start - 1] if start > 0 else " "
    after = match[end] if end < len(match) else " "
    return bool(_SEPARATOR.match(before)) and bool(_SEPARATOR.match(after))


_MOBILE = re.compile(r"1\d{10}")


def _customer_fields(clauses: list[str], labels: tuple[str, ...]) -> str:
    """德阳东方电机 / 联系人周工 / 13800000000 → `德阳东方电机 联系人=周工 电话=13800000000`."""
    name = ""
    pairs: list[str] = []
    for clause in (c for c in clauses if c):
        label = next((lb for lb in sorted(labels, key=len, reverse=True) if clause.startswith(lb)), None)
        if label is not None:
            value = clause[len(label) :].lstrip("是:：= ")
            if value:
                pairs.append(f"{label}={value}")
            continue
        if _MOBILE.fullmatch(clause) and "电话" in labels:
            pairs.append(f"电话={clause}")
        elif not name:
            name = clause
    return " ".join([name, *pairs]).strip() if name else ""
