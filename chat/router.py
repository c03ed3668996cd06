"""Routes registered with decorators on small routers; the first match wins.

    router = Router("customers")

    @router.command("客户", help="查看客户", example="客户 华东精密")
    def show_customer(msg: Inbound, ctx: Ctx) -> Reply | list[Reply] | None: ...

`handlers/__init__.py` includes the routers in priority order (system first, fallback last).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from chat.inbound import Inbound
from chat.replies import Reply
from models.org import role_labels

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cards.keys import CardKey
    from chat.dialogs import DialogState, DialogStore
    from chat.settings import Settings
    from models import User
    from services.config import BusinessConfig

D = TypeVar("D")

ROLE_DENIED = "「{command}」只有{roles}可以使用。发送「帮助」查看您可用的命令。"


@dataclass(frozen=True)
class Redispatch:
    """A handler's answer "run this command as the sender instead" (a numbered pick's choice): chat/handle.py
    runs it through the same route, access rule and savepoint as if it had been typed."""

    command: str
    args: str


HandlerResult = Reply | list[Reply] | Redispatch | None
Handler = Callable[[Inbound, "Ctx"], HandlerResult]
# A batch preloader (chat/preloaded.py): called as fn(session, users=[...], now=..., config=...) with the
# senders of a worker's batch whose message starts with one of its commands.
Preload = Callable[..., None]


@dataclass
class Ctx:
    """Everything a handler may use; explicit, so handlers are plain functions that are easy to test."""

    session: Session
    user: User
    settings: Settings
    config: BusinessConfig
    now: datetime
    dialogs: DialogStore
    dialog: DialogState | None = None
    args: str = ""
    command: str = ""
    card_key: CardKey | None = None
    services: dict[str, Any] = field(default_factory=dict)
    routes: RouteTable | None = (
        None  # the table this message was routed by (帮助, the fallback and picks read it)
    )
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def userid(self) -> str:
        return self.user.userid

    @property
    def tz(self) -> ZoneInfo:
        """The configured local zone (Settings.salesbot_timezone): pass it to every local date or time."""
        return self.settings.tz

    # --- the sender's dialog: a state (a StrEnum member per dialog) and its data (a dataclass per dialog) ---

    def start_dialog(self, state: str, data: Any) -> None:
        """Open (or replace) the sender's dialog; `data` is a dataclass (or a dict) of JSON-safe values."""
        values = (
            dataclasses.asdict(data)
            if dataclasses.is_dataclass(data) and not isinstance(data, type)
            else dict(data)
        )
        self.dialogs.set(
            userid=self.userid,
            state=str(state),
            data=values,
            now=self.now,
            ttl_minutes=self.config.dialog_ttl_minutes,
        )

    def clear_dialog(self) -> None:
        self.dialogs.clear(userid=self.userid)

    def dialog_data(self, cls: type[D]) -> D:
        """The open dialog's data as `cls` (fields missing from older rows take their defaults)."""
        raw = dict(self.dialog.data) if self.dialog else {}
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass(frozen=True)
class CommandInfo:
    name: str
    help: str
    example: str
    roles: frozenset[str] | None  # None: everyone
    aliases: tuple[str, ...] = ()
    listed: bool = (
        True  # False: works when typed, but 帮助 does not list it (named where it is useful instead)
    )
    read_only: bool = False  # only shows something (客户, 待办): a guess at it is asked without "保存"

    def allows(self, role: str) -> bool:
        """The one rule for command access: dispatch, 帮助, the fallback and the numbered pick all ask this."""
        return self.roles is None or role in self.roles

    def refusal(self) -> str:
        return ROLE_DENIED.format(command=self.name, roles=role_labels(self.roles or ()))


DialogLabel = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Route:
    kind: str  # command | state | event | card | fallback
    key: str
    handler: Handler
    info: CommandInfo | None = None
    # A dialog step ("state" routes): what the sender was doing, for "已退出刚才的{label}，未做更改。" (a string,
    # or a function of the dialog's data), and whether a command line is one of its answers (see chat/handle.py).
    label: DialogLabel | None = None
    takes_commands: bool = False

    def dialog_label(self, data: dict[str, Any]) -> str | None:
        if callable(self.label):
            try:
                return self.label(data)
            except (KeyError, TypeError, ValueError):
                return None
        return self.label


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self.preloads: list[tuple[frozenset[str], Preload]] = []

    def preload(self, *commands: str) -> Callable[[Preload], Preload]:
        """Register a batch preloader for messages starting with one of `commands` (chat/preloaded.py)."""

        def register(fn: Preload) -> Preload:
            self.preloads.append((frozenset(commands), fn))
            return fn

        return register

    def command(
        self,
        name: str,
        *,
        help: str,
        example: str,
        roles: Iterable[str] | None = None,
        aliases: Iterable[str] = (),
        listed: bool = True,
        read_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        info = CommandInfo(
            name, help, example, frozenset(roles) if roles else None, tuple(aliases), listed, read_only
        )

        def register(fn: Handler) -> Handler:
            for word in (name, *info.aliases):
                self.routes.append(Route("command", word, fn, info))
            return fn

        return register

    def text(
        self, *, state: str, label: DialogLabel | None = None, takes_commands: bool = False
    ) -> Callable[[Handler], Handler]:
        """A dialog step: plain text while the sender's dialog is in `state` (prefix match on `x.*`).

        `label` names the dialog when a new command leaves it (`驳回（报价 #12）`); `takes_commands=True` for a
        step whose answer may itself look like a command line (修改's `客户 宏达`): a command typed then is the
        answer, not a new message.
        """

        def register(fn: Handler) -> Handler:
            self.routes.append(Route("state", state, fn, label=label, takes_commands=takes_commands))
            return fn

        return register

    def event(self, kind: str) -> Callable[[Handler], Handler]:
        """An Inbound kind other than text: image, location, location_event, enter_agent."""
        return self._add("event", kind)

    def card(self, action: str) -> Callable[[Handler], Handler]:
        """A card tap whose CardKey action is `action` (e.g. "quote.approve")."""
        return self._add("card", action)

    def fallback(self) -> Callable[[Handler], Handler]:
        return self._add("fallback", "")

    def _add(self, kind: str, key: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append(Route(kind, key, fn))
            return fn

        return register


def _state_matches(pattern: str, state: str) -> bool:
    if pattern.endswith(".*"):
        return state.startswith(pattern[:-1])
    return pattern == state


@dataclass
class RouteTable:
    routers: list[Router]
    _words: list[str] | None = field(default=None, init=False, repr=False)

    def commands(self) -> list[CommandInfo]:
        seen: dict[str, CommandInfo] = {}
        for router in self.routers:
            for route in router.routes:
                if (
                    route.kind == "command"
                    and route.info
                    and route.info.listed
                    and route.info.name not in seen
                ):
                    seen[route.info.name] = route.info
        return list(seen.values())

    def commands_for(self, role: str) -> list[CommandInfo]:
        """The commands `role` may use, in route order (what 帮助 lists and the fallback suggests from)."""
        return [info for info in self.commands() if info.allows(role)]

    def command_route(self, word: str) -> Route | None:
        return self._first("command", lambda key: key == word)

    def state_route(self, state: str) -> Route | None:
        """The dialog step that takes text while the sender's dialog is in `state`."""
        return self._first("state", lambda key: _state_matches(key, state))

    def command_words(self) -> list[str]:
        if self._words is None:
            self._words = [r.key for router in self.routers for r in router.routes if r.kind == "command"]
        return self._words

    def preload(
        self,
        session: Session,
        senders: list[tuple[str | None, User]],
        *,
        now: datetime,
        config: BusinessConfig,
    ) -> None:
        """Run every preloader once for the senders (command word, user) of a batch whose command it serves."""
        for router in self.routers:
            for commands, fn in router.preloads:
                users = [user for command, user in senders if command in commands]
                if users:
                    fn(session, users=users, now=now, config=config)

    def match(
        self, msg: Inbound, *, command: str | None, dialog_state: str | None, card_action: str | None
    ) -> Route | None:
        """First match wins, in router order. A command word beats an open dialog (so 取消 and new commands work)."""
        if msg.kind == "card_event":
            return self._first("card", lambda key: key == card_action) if card_action else None
        if msg.kind == "text":
            if command:
                found = self._first("command", lambda key: key == command)
                if found:
                    return found
            if dialog_state:
                found = self._first("state", lambda key: _state_matches(key, dialog_state))
                if found:
                    return found
            return self._first("fallback", lambda key: True)
        return self._first("event", lambda key: key == msg.kind)

    def _first(self, kind: str, predicate: Callable[[str], bool]) -> Route | None:
        for router in self.routers:
            for route in router.routes:
                if route.kind == kind and predicate(route.key):
                    return route
        return None
