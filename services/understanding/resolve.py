"""Which customer, contact, opportunity, person and region a sentence names, within the sender's lexicon.

Exact words first (Aho-Corasick over every alias: one pass over the message, whatever the company's size),
then pinyin typed in Latin letters (hongda, jqjg), then, only when nothing was found, the approximate
matches a person makes when typing: a homophone from the input method (金侨 for 金桥) or a character or two
off (edit distance, rapidfuzz). Approximate matches are flagged `did_you_mean` so the answer asks first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein

from services.parsing.text import normalize_text
from services.understanding.extract import Span
from services.understanding.lexicon import CONTACT, CUSTOMER, OPPORTUNITY, PERSON, REGION, Hit, Lexicon
from services.understanding.names import PLACES, TRADES, customer_aliases, is_cjk, syllables

_LATIN = re.compile(r"[a-z]{2,}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
# What may follow a trade word for it to still be part of the typed name (汇丰冶金|的白总, 汇丰冶金|，…),
# rather than the start of what is said about it (恒力|设备采购).
_AFTER_NAME = re.compile(
    r"$|[^\u4e00-\u9fff]|的|那边|这边|最近|现在|目前|公司|有限|集团|厂|怎么|情况|电话|这个|那个"
)


@dataclass
class Entities:
    customer_ids: tuple[int, ...] = ()
    contact: str | None = None
    opportunity_ids: tuple[int, ...] = ()
    person_userid: str | None = None
    region: str | None = None
    did_you_mean: bool = False
    mention: str | None = None
    spans: dict[str, list[Span]] = field(default_factory=dict)

    def all_spans(self) -> list[Span]:
        return [span for spans in self.spans.values() for span in spans]


def _select(hits: list[Hit]) -> list[Hit]:
    """Leftmost-longest, non-overlapping spans; every entry at a chosen span is kept."""
    by_span: dict[Span, list[Hit]] = {}
    for hit in hits:
        by_span.setdefault((hit.start, hit.end), []).append(hit)
    order = sorted(by_span, key=lambda s: (-(s[1] - s[0]), -max(h.weight for h in by_span[s]), s[0]))
    taken: list[Span] = []
    out: list[Hit] = []
    for span in order:
        if any(span[0] < t[1] and t[0] < span[1] for t in taken):
            continue
        taken.append(span)
        out.extend(by_span[span])
    return sorted(out, key=lambda h: h.start)


def _best_group(hits: list[Hit]) -> list[Hit]:
    """The hits naming the strongest span of one kind: the highest weight, then longest, then first."""
    if not hits:
        return []
    spans: dict[Span, list[Hit]] = {}
    for hit in hits:
        spans.setdefault((hit.start, hit.end), []).append(hit)
    best = max(spans, key=lambda s: (max(h.weight for h in spans[s]), s[1] - s[0], -s[0]))
    return spans[best]


def resolve(text: str, lex: Lexicon, *, blocked: list[Span] = (), name_token: str | None = None) -> Entities:  # type: ignore[assignment]
    """Find the entities in `text` (normalised, lower-case). `blocked` spans (times, amounts) are not names;
    `name_token` is a word the sender put where a name goes (a command's first argument)."""
    hits = [h for h in lex.hits(text) if not any(h.start < b[1] and b[0] < h.end for b in blocked)]
    if name_token and text.startswith(name_token):
        hits = [h for h in hits if _fits_token(h, name_token, lex)]
    chosen = _select(hits)
    ents = Entities()
    kinds: dict[str, list[Hit]] = {}
    for hit in chosen:
        kinds.setdefault(hit.kind, []).append(hit)

    foreign: list[Span] = []
    if kinds.get(CUSTOMER):
        kinds[CUSTOMER], foreign = _agreeing(text, kinds[CUSTOMER], lex)
        if not kinds[CUSTOMER]:
            del kinds[CUSTOMER]
            ents.mention = text[foreign[0][0] : foreign[0][1]]
    customer_hits = _best_group(kinds.get(CUSTOMER, []))
    customer_ids = sorted({int(h.ref) for h in customer_hits})
    contact_hits = kinds.get(CONTACT, [])
    if contact_hits:
        contact_customers = {int(h.ref) for h in contact_hits}
        if customer_ids:
            contact_customers &= set(customer_ids)
        elif len({h.start for h in contact_hits}) >= 1:
            strongest = _best_group(contact_hits)
            contact_customers = {int(h.ref) for h in strongest}
            customer_ids = sorted(contact_customers)
        if contact_customers:
            stored = {lex.customers[c].contact for c in contact_customers}
            ents.contact = stored.pop() if len(stored) == 1 else None
            ents.spans[CONTACT] = [(h.start, h.end) for h in contact_hits]
    opp_hits = kinds.get(OPPORTUNITY, [])
    if customer_ids:
        opp_hits = [h for h in opp_hits if lex.opportunities[int(h.ref)].customer_id in customer_ids]
    if opp_hits:
        group = _best_group(opp_hits)
        ids = sorted({int(h.ref) for h in group})
        open_ids = [i for i in ids if lex.opportunities[i].open]
        ents.opportunity_ids = tuple(open_ids or ids)
        ents.spans[OPPORTUNITY] = [(h.start, h.end) for h in group]
        if not customer_ids:
            customer_ids = sorted({lex.opportunities[i].customer_id for i in ents.opportunity_ids})
    if customer_hits:
        ents.spans[CUSTOMER] = [(h.start, h.end) for h in kinds[CUSTOMER]]

    person_hits = kinds.get(PERSON, [])
    if person_hits:
        ents.person_userid = str(person_hits[0].ref)
        ents.spans[PERSON] = [(h.start, h.end) for h in person_hits]
    region_hits = kinds.get(REGION, [])
    if region_hits:
        ents.region = str(region_hits[0].ref)
        ents.spans[REGION] = [(h.start, h.end) for h in region_hits]

    if not customer_ids:
        taken = [*blocked, *foreign, *ents.all_spans()]
        customer_ids = _by_pinyin(text, lex, ents, taken)
    if not customer_ids and name_token:
        customer_ids = _by_edit_distance(name_token, lex, ents)
    if not customer_ids:
        customer_ids = _by_sound(text, lex, ents, [*blocked, *foreign, *ents.all_spans()])
    ents.customer_ids = tuple(customer_ids)
    return ents


def typed_name(text: str, span: Span) -> Span:
    """The name as typed around a matched word: with a place written just before it (佛山|汇丰) and a trade
    word just after it (汇丰|冶金) when what follows still reads as the end of a name."""
    start, end = span
    for size in (5, 4, 3, 2):
        word = text[max(start - size, 0) : start]
        if len(word) == size and (word in PLACES or (word[-1] == "市" and word[:-1] in PLACES)):
            start -= size
            break
    for size in (3, 2):
        word = text[end : end + size]
        if len(word) == size and word in TRADES and _AFTER_NAME.match(text, end + size):
            end += size
            break
    return start, end


def foreign_words(typed: str, name: str) -> bool:
    """Does `typed` carry a place or a trade word that the customer's name lacks (佛山 or 冶金 typed for
    南京汇丰电气设备)? Then it names another company, not this one."""
    own = normalize_text(name).lower()
    i = 0
    while i < len(typed):
        for size in (4, 3, 2):
            word = typed[i : i + size]
            if len(word) == size and (word in PLACES or word in TRADES):
                if word not in own:
                    return True
                i += size
                break
        else:
            i += 1
    return False


def _agreeing(text: str, hits: list[Hit], lex: Lexicon) -> tuple[list[Hit], list[Span]]:
    """The customer hits whose typed name agrees with the customer's name, and the spans of those that do not."""
    kept: list[Hit] = []
    foreign: list[Span] = []
    for hit in hits:
        span = typed_name(text, (hit.start, hit.end))
        if foreign_words(text[span[0] : span[1]], lex.customers[int(hit.ref)].name):
            foreign.append(span)
        else:
            kept.append(hit)
    return kept, foreign


def _fits_token(hit: Hit, token: str, lex: Lexicon) -> bool:
    """A word written where a name goes names a customer only if it is part of that customer's name: 华东精
    inside 华东精密 is not 华东精工 (that is a typo at best, for the approximate steps to ask about)."""
    if hit.kind != CUSTOMER or hit.start >= len(token):
        return True
    return token in normalize_text(lex.customers[int(hit.ref)].name).lower()


def _by_pinyin(text: str, lex: Lexicon, ents: Entities, taken: list[Span]) -> list[int]:
    """hongda, jqjg: pinyin or initials typed in Latin letters (exact, then one letter off or two swapped, 5+)."""
    for m in _LATIN.finditer(text):
        if any(m.start() < t[1] and t[0] < m.end() for t in taken):
            continue
        word = m[0]
        ids = lex.pinyin.get(word)
        if ids:
            ents.spans[CUSTOMER] = [m.span()]
            ents.mention = word
            return sorted(ids)
        if len(word) >= 5 and lex.pinyin:
            found = process.extractOne(word, lex.pinyin.keys(), scorer=OSA.distance, score_cutoff=1)
            if found is not None:
                ents.spans[CUSTOMER] = [m.span()]
                ents.did_you_mean, ents.mention = True, word
                return sorted(lex.pinyin[found[0]])
    return []


def _by_sound(text: str, lex: Lexicon, ents: Entities, taken: list[Span]) -> list[int]:
    """金侨 for 金桥: the same syllables as a short name (what a pinyin input method gets wrong)."""
    if not lex.sounds:
        return []
    best: tuple[int, Span, frozenset[int]] | None = None
    for m in _CJK_RUN.finditer(text):
        run = m[0]
        syl = syllables(run)
        if len(syl) != len(run):
            continue
        for i in range(len(run)):
            for size in range(min(lex.max_sound_len, len(run) - i), 1, -1):
                span = (m.start() + i, m.start() + i + size)
                if any(span[0] < t[1] and t[0] < span[1] for t in taken):
                    continue
                ids = lex.sounds.get(syl[i : i + size])
                if ids:
                    typed = typed_name(text, span)
                    ids = frozenset(
                        c for c in ids if not foreign_words(text[typed[0] : typed[1]], lex.customers[c].name)
                    )
                if ids and (best is None or size > best[0]):
                    best = (size, span, ids)
                    break
    if best is None:
        return []
    ents.spans[CUSTOMER] = [best[1]]
    ents.did_you_mean, ents.mention = True, text[best[1][0] : best[1][1]]
    return sorted(best[2])


def _by_edit_distance(token: str, lex: Lexicon, ents: Entities) -> list[int]:
    """A name a character or two off (华东精蜜, 金桥精密): only for a word written where a name goes."""
    token = token.strip()
    if len(token) < 2 or not all(is_cjk(ch) for ch in token):
        return []
    allowed = 1 if len(token) <= 4 else 2
    best: tuple[int, set[int]] | None = None
    for cust in lex.customers.values():
        for alias, weight in customer_aliases(cust.name):
            if weight < 2 or abs(len(alias) - len(token)) > allowed:
                continue
            d = Levenshtein.distance(token, alias, score_cutoff=allowed)
            if d <= allowed and (len(token) > 2 or d == 0 or alias[0] == token[0]):
                if best is None or d < best[0]:
                    best = (d, {cust.id})
                elif d == best[0]:
                    best[1].add(cust.id)
    if best is None:
        return []
    ents.did_you_mean, ents.mention = True, token
    return sorted(best[1])


def fuzzy_opportunities(text: str, lex: Lexicon, customer_ids: tuple[int, ...]) -> tuple[int, ...]:
    """Projects named loosely (备件框架 for 备件年度框架): the best partial match among the customer's."""
    candidates = {
        o.id: o.name.lower()
        for o in lex.opportunities.values()
        if o.open and (not customer_ids or o.customer_id in customer_ids)
    }
    if not candidates:
        return ()
    scored = process.extract(text, candidates, scorer=fuzz.partial_ratio, limit=2, score_cutoff=60)
    if not scored:
        return ()
    if len(scored) > 1 and scored[0][1] - scored[1][1] < 10:
        return tuple(sorted({scored[0][2], scored[1][2]}))
    return (int(scored[0][2]),)
