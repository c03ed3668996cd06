"""Roles: the one home for who is who (docs/architecture.md "Where each rule lives").

`Role` and its Chinese labels are defined next to the `users.role` column (models/org.py, because the column
type converts to the enum) and re-exported here; everything else about roles is defined only here: the named
role sets used by routes, services and jobs, labels for display and parsing of what people type in the org
chart or the configuration file. Whether a role may use a *command* is `CommandInfo.allows` (chat/router.py),
fed with the sets below.
"""

from __future__ import annotations

from models.org import ROLE_LABELS, Role
from models.org import role_labels as labels

__all__ = [
    "ALL",
    "APPROVERS",
    "ASSIGNABLE",
    "DIGEST_RECIPIENTS",
    "INVOICING",
    "LABELS",
    "MANAGERS",
    "PAYMENT",
    "SALES",
    "SEES_ALL",
    "SEES_ROUTED",
    "Role",
    "label",
    "labels",
    "parse",
]

LABELS: dict[Role, str] = ROLE_LABELS
ALL: tuple[Role, ...] = tuple(Role)

# Work the sales process: customers, visits, opportunities, quote requests.
SALES = frozenset({Role.REP, Role.SUPERVISOR, Role.DIRECTOR, Role.ADMIN})
# Register payments: the sales roles plus 财务经理.
PAYMENT = SALES | {Role.FINANCE}
# Record invoices (开票) and be told what to invoice: 财务经理 (管理员 to correct).
INVOICING = frozenset({Role.FINANCE, Role.ADMIN})
# Manage people's work: 分配, 日报, the supervisor's view of a customer.
MANAGERS = frozenset({Role.SUPERVISOR, Role.DIRECTOR, Role.ADMIN})
# Receive the morning digest on the scheduler's initiative.
DIGEST_RECIPIENTS = frozenset({Role.SUPERVISOR, Role.DIRECTOR})
# May stand in an approval chain (configuration) and may delegate (委托).
APPROVERS = frozenset({Role.SUPERVISOR, Role.TECH_LEAD, Role.FINANCE, Role.DIRECTOR})
# May receive a customer by 分配.
ASSIGNABLE = frozenset({Role.REP, Role.SUPERVISOR})
# Visibility (services/scope.py): everything, or only the customers routed to them for approval.
SEES_ALL = frozenset({Role.DIRECTOR, Role.ADMIN})
SEES_ROUTED = frozenset({Role.TECH_LEAD, Role.FINANCE})

# Short forms people write besides the value and the label.
_ALIASES: dict[str, Role] = {"主管": Role.SUPERVISOR, "财务": Role.FINANCE}


def label(role: str) -> str:
    """The Chinese label; an unknown value (only possible in old data) is shown as it is."""
    try:
        return LABELS[Role(role)]
    except ValueError:
        return role


def parse(text: str, *, aliases: bool = True) -> Role | None:
    """A role from its value (`rep`, any case) or its Chinese label (`销售主管`); None when unknown.

    `aliases` also accepts the short forms 主管 and 财务 (the configuration file does; the org chart does not).
    """
    word = (text or "").strip()
    if word.lower() in Role._value2member_map_:
        return Role(word.lower())
    for role, name in LABELS.items():
        if name == word:
            return role
    return _ALIASES.get(word) if aliases else None
