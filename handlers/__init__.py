"""Conversation capabilities, one module each; `ROUTERS` is the order routes are tried in (first match wins):
帮助/取消 first, then the capabilities, the understanding step last (the fallback for any other text)."""

from __future__ import annotations

from chat.router import Router, RouteTable
from handlers import (
    customers,
    digest,
    finance,
    leads,
    nextsteps,
    opportunities,
    pool,
    quotes,
    reminders,
    system,
    targets,
    todo,
    understand,
    visits,
)

ROUTERS: tuple[Router, ...] = (
    system.router,
    customers.router,
    visits.router,
    opportunities.router,
    finance.router,
    quotes.router,
    reminders.router,
    digest.router,
    nextsteps.router,
    todo.router,
    targets.router,
    leads.router,
    pool.router,
    understand.router,
)


def build_routes() -> RouteTable:
    return RouteTable(list(ROUTERS))
