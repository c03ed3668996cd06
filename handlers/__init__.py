"""Conversation capabilities, one module each; `build_routes` orders them (system first, fallback last)."""

from __future__ import annotations

import importlib

from chat.router import Router, RouteTable

# Priority order. Each module defines `router = Router(...)`.
MODULES = [
    "handlers.system",
    "handlers.customers",
    "handlers.visits",
    "handlers.opportunities",
    "handlers.quotes",
    "handlers.reminders",
    "handlers.digest",
    "handlers.understand",
    "handlers.fallback",
]


def build_routes() -> RouteTable:
    routers: list[Router] = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # capability not built yet
                continue
            raise
        routers.append(module.router)
    return RouteTable(routers)
