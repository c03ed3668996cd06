"""SQLAlchemy 2 typed models and the engine/session factory."""

from models.base import Base
from models.collections import Instalment, Invoice, Milestone
from models.leads import POOL_OWNER, Lead, PoolEvent, PoolExtension
from models.messaging import (
    AuditEntry,
    CardTask,
    Dialog,
    InboundEvent,
    JobOccurrence,
    OutboxMessage,
    PendingMedia,
)
from models.org import ROLE_LABELS, Role, User, norm_userid, role_labels
from models.proposals import Proposal
from models.pushes import Push
from models.sales import (
    ApprovalStep,
    Contract,
    Customer,
    Delegation,
    Opportunity,
    Payment,
    Quote,
    Reminder,
    StageMove,
    Visit,
    VisitPhoto,
)
from models.targets import Target, TargetNudge

__all__ = [
    "ROLE_LABELS",
    "ApprovalStep",
    "AuditEntry",
    "Base",
    "CardTask",
    "Contract",
    "Customer",
    "Delegation",
    "Dialog",
    "InboundEvent",
    "Lead",
    "Instalment",
    "Invoice",
    "JobOccurrence",
    "Milestone",
    "Opportunity",
    "OutboxMessage",
    "Payment",
    "Proposal",
    "POOL_OWNER",
    "PendingMedia",
    "Push",
    "PoolEvent",
    "PoolExtension",
    "Quote",
    "Reminder",
    "Role",
    "StageMove",
    "Target",
    "TargetNudge",
    "User",
    "Visit",
    "VisitPhoto",
    "norm_userid",
    "role_labels",
]
