"""A lead told in a sentence — `今天展会加了个客户，宁波华东精密的王总，电话13812345678，想要报价` — read into the
`线索` command's arguments, so the understanding step can propose it and 确认 runs the command itself.

Pure: no database. It needs a phone number and a company (`<公司>的<王总>`, or a word ending in 公司/厂/集团…);
the source is the first configured source named (展会, 官网, 转介绍, …), the note what is left of the last
clauses (想要报价).
"""

from __future__ import annotations

import re

from services.config import BusinessConfig
from services.leads import LeadInput
from services.parsing import PhoneError, normalize_phone, normalize_text

_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}[\s-]?\d{7,8})(?!\d)")
_TITLE = r"(?:总|总经理|工|经理|主任|老板|厂长|先生|女士|小姐|姐|哥|科长|处长|部长)"
_CONTACT = re.compile(rf"([\u4e00-\u9fa5]{{1,2}}{_TITLE})")
_OWNED = re.compile(rf"([\u4e00-\u9fa5A-Za-z0-9（）()·]{{2,30}}?)的([\u4e00-\u9fa5]{{1,2}}{_TITLE})")
_COMPANY = re.compile(r"([\u4e00-\u9fa5A-Za-z0-9（）()·]{2,30}?(?:有限公司|公司|厂|集团|研究院|研究所|中心))")
_CLAUSES = re.compile(r"[，,。；;！!\s]+")
# Words around the company that are not part of it.
_LEAD_IN = re.compile(
    r"^(?:.*?(?:介绍了?|加了|来了|认识了|有)(?:一家|一个|个|家)(?:新)?(?:客户)?[是叫：:]?|.*?客户[是叫：:]?|是|叫)"
)
# Words that name a source without being its configured name.
_SOURCE_WORDS = {"介绍": "转介绍", "网站": "官网", "展位": "展会", "展上": "展会"}
_NOTE_CUES = re.compile(r"想|要|需要|关注|询|咨询|报价|方案|样|来厂|参观|试用")
_NOT_SOURCE = frozenset({"电话", "其他"})


def _phone(text: str) -> tuple[str, str] | None:
    for m in _PHONE.finditer(text):
        try:
            return normalize_phone(m.group(1)), m.group(0)
        except PhoneError:
            continue
    return None


def parse(text: str, *, config: BusinessConfig) -> LeadInput | None:
    """The lead in `text`, or None when it names no phone or no company."""
    text = normalize_text(text)
    found = _phone(text)
    if found is None:
        return None
    phone, raw_phone = found
    clauses = [c for c in _CLAUSES.split(text.replace(raw_phone, " ")) if c]
    company = contact = None
    for clause in clauses:
        owned = _OWNED.search(clause)
        if owned:
            company, contact = _LEAD_IN.sub("", owned.group(1)), owned.group(2)
            break
    if not company:
        for clause in clauses:
            named = _COMPANY.search(clause)
            if named:
                company = _LEAD_IN.sub("", named.group(1))
                break
    if not company or len(company) < 2:
        return None
    if contact is None:
        person = next((m.group(1) for c in clauses if (m := _CONTACT.search(c)) and company not in c), None)
        contact = person
    source = next((s for s in config.leads.sources if s not in _NOT_SOURCE and s in text), None)
    if source is None:
        source = next(
            (s for w, s in _SOURCE_WORDS.items() if w in text and s in config.leads.sources), "其他"
        )
    notes = [
        c
        for c in clauses
        if _NOTE_CUES.search(c)
        and company not in c
        and (contact is None or contact not in c)
        and not c.startswith("电话")
    ]
    return LeadInput(
        company=company.replace(" ", ""),
        contact=contact,
        phone=phone,
        source=source,
        note="，".join(notes) or None,
    )


def command_args(lead: LeadInput) -> str:
    """The `线索` command's arguments for `lead` (公司 联系人 电话 来源 备注)."""
    parts = [lead.company, lead.contact or "联系人", lead.phone or "", lead.source]
    if lead.note:
        parts.append(lead.note)
    return " ".join(p for p in parts if p)
