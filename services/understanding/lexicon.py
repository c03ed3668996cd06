"""The names a sender may see, as one dictionary: customers, contacts, opportunities, people, regions.

Built from the company's own records, filtered by services/scope.py, so an out-of-scope name is simply not
in it (exactly like an unknown one). Building it (aliases, pinyin, an Aho-Corasick automaton) costs far more
than reading the rows, so a built lexicon is cached by the content of the rows it was built from: every
request reads the rows in scope (a few cheap queries) and reuses the lexicon when they are unchanged. Any
edit to a name, a contact, what the sender may see or the org chart gives different rows and a fresh build
(a stage move or an owner change within the sender's scope does not).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

import ahocorasick  # type: ignore[import-not-found]
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Customer, Opportunity, User
from services.parsing.text import normalize_name
from services.scope import Scope
from services.understanding.names import (
    contact_variants,
    customer_aliases,
    is_cjk,
    opportunity_aliases,
    syllables,
)

CUSTOMER, CONTACT, OPPORTUNITY, PERSON, REGION = "customer", "contact", "opportunity", "person", "region"


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    name: str
    contact: str | None
    region: str | None


@dataclass(frozen=True)
class OpportunityInfo:
    id: int
    customer_id: int
    name: str
    stage: str  # not read from the database (a stage move must not rebuild the lexicon): always ""
    open: bool


@dataclass(frozen=True)
class Hit:
    """One dictionary word found in the message: text[start:end] names `ref` of `kind` with `weight`."""

    start: int
    end: int
    kind: str
    ref: int | str
    weight: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class Lexicon:
    customers: dict[int, CustomerInfo]
    opportunities: dict[int, OpportunityInfo]
    people: dict[str, str]  # userid -> name
    regions: frozenset[str]
    automaton: ahocorasick.Automaton = field(repr=False)
    pinyin: dict[str, frozenset[int]] = field(repr=False)  # "hongda" / "jqjg" -> customer ids
    sounds: dict[tuple[str, ...], frozenset[int]] = field(repr=False)  # ("jin", "qiao") -> customer ids
    contacts: dict[str, frozenset[int]] = field(
        repr=False
    )  # contact as stored (and variants) -> customer ids
    max_sound_len: int = 0

    def hits(self, text: str) -> Iterator[Hit]:
        """Every dictionary word in `text` (lower-cased, normalised): overlapping, all kinds."""
        if not len(self.automaton):
            return
        for end, (word, entries) in self.automaton.iter(text):
            start = end - len(word) + 1
            for kind, ref, weight in entries:
                yield Hit(start, end + 1, kind, ref, weight)

    def names_for_model(self, limit: int = 300) -> dict[str, list[str]]:
        """What a model may be told: only names the sender may see (and never more than `limit` of each)."""
        return {
            "customers": [c.name for c in list(self.customers.values())[:limit]],
            "contacts": sorted({c.contact for c in self.customers.values() if c.contact})[:limit],
            "opportunities": [o.name for o in list(self.opportunities.values())[:limit] if o.open],
            "people": sorted(self.people.values())[:limit],
            "regions": sorted(self.regions),
        }


def _build(
    customers: tuple[tuple[int, str, str | None, str | None], ...],
    opportunities: tuple[tuple[int, int, str, str, bool], ...],
    users: tuple[tuple[str, str, str | None], ...],
    sales_regions: tuple[str, ...] = (),
) -> Lexicon:
    words: dict[str, list[tuple[str, int | str, int]]] = {}
    pinyin: dict[str, set[int]] = {}
    sounds: dict[tuple[str, ...], set[int]] = {}
    contacts: dict[str, set[int]] = {}

    def add(word: str, kind: str, ref: int | str, weight: int) -> None:
        if word:
            words.setdefault(word, []).append((kind, ref, weight))

    cust_info: dict[int, CustomerInfo] = {}
    for cid, name, contact, region in customers:
        cust_info[cid] = CustomerInfo(cid, name, contact, region)
        core = normalize_name(name)
        core_sounds = syllables(core)  # once per name; an alias inside it takes its slice
        for alias, weight in customer_aliases(name):
            add(alias, CUSTOMER, cid, weight)
            if weight < 2 or not all(is_cjk(ch) for ch in alias):
                continue
            at = core.find(alias)
            syl = (
                core_sounds[at : at + len(alias)]
                if at >= 0 and len(core_sounds) == len(core)
                else syllables(alias)
            )
            pinyin.setdefault("".join(syl), set()).add(cid)
            sounds.setdefault(syl, set()).add(cid)
            if len(syl) >= 3:
                pinyin.setdefault("".join(x[0] for x in syl if x), set()).add(cid)
        if contact:
            for i, variant in enumerate(contact_variants(contact)):
                add(variant, CONTACT, cid, 3 if i == 0 else 1)
                contacts.setdefault(variant, set()).add(cid)
    opp_info: dict[int, OpportunityInfo] = {}
    for oid, cid, name, stage, is_open in opportunities:
        opp_info[oid] = OpportunityInfo(oid, cid, name, stage, is_open)
        for alias, weight in opportunity_aliases(name):
            add(alias, OPPORTUNITY, oid, weight)
    people: dict[str, str] = {}
    # Every sales region is a word for everyone (the names are no secret): 华东这个月签了多少 from 华南's
    # supervisor is a question about 华东, refused politely, not one about their own figures.
    regions: set[str] = {c.region for c in cust_info.values() if c.region} | set(sales_regions)
    for userid, name, region in users:
        people[userid] = name
        if len(name) >= 2:
            add(name.lower(), PERSON, userid, 3)
        if region:
            regions.add(region)
    for region in regions:
        add(region.lower(), REGION, region, 3)

    automaton = ahocorasick.Automaton()
    for word, entries in words.items():
        automaton.add_word(word, (word, tuple(entries)))
    if words:
        automaton.make_automaton()
    return Lexicon(
        customers=cust_info,
        opportunities=opp_info,
        people=people,
        regions=frozenset(regions),
        automaton=automaton,
        pinyin={k: frozenset(v) for k, v in pinyin.items()},
        sounds={k: frozenset(v) for k, v in sounds.items()},
        contacts={k: frozenset(v) for k, v in contacts.items()},
        max_sound_len=max((len(k) for k in sounds), default=0),
    )


_Key = tuple[tuple, tuple, tuple, tuple]  # type: ignore[type-arg]
_CACHE: OrderedDict[bytes, Lexicon] = OrderedDict()
_CACHE_SIZE = 64
_LOCK = threading.Lock()


def rows_in_scope(session: Session, *, user: User) -> _Key:
    """The rows a lexicon is built from: what `user` may see, read fresh on every call."""
    scope = Scope.of(user)
    conn = session.connection()  # Core rows: no ORM bookkeeping for a read that runs on every message
    customers = tuple(
        tuple(row)
        for row in conn.execute(
            select(Customer.id, Customer.name, Customer.contact, Customer.region)
            .where(scope.customers())
            .order_by(Customer.id)
        )
    )
    opportunities = tuple(
        (row[0], row[1], row[2], "", row[3] is None)  # not the stage: moving a stage must not rebuild
        for row in conn.execute(
            select(Opportunity.id, Opportunity.customer_id, Opportunity.name, Opportunity.closed_at)
            .join(Customer, Customer.id == Opportunity.customer_id)
            .where(scope.customers())
            .order_by(Opportunity.id)
        )
    )
    query = select(User.userid, User.name, User.region).where(User.active.is_(True), scope.users())
    users = tuple(tuple(row) for row in conn.execute(query.order_by(User.userid)))
    everywhere = select(Customer.region).where(Customer.region.is_not(None)).distinct()
    sales_regions = tuple(sorted(str(r) for (r,) in conn.execute(everywhere) if r))
    return customers, opportunities, users, sales_regions


def lexicon_for(session: Session, *, user: User) -> Lexicon:
    """The sender's lexicon: rebuilt only when the rows in scope changed since it was last built."""
    rows = rows_in_scope(session, user=user)
    # A 128-bit digest of the rows, not the rows: comparing thousands of tuples on every message costs more
    # than reading them.
    key = hashlib.blake2b(repr(rows).encode(), digest_size=16).digest()
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = _build(*rows)
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built
