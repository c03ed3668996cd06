"""The route-and-handle step: one inbound message in, the replies to write to the outbox out.

Runs inside the caller's transaction (bot/dispatcher.py claims the message and writes the replies in the same
one): find the sender, their open dialog and the command or card key; match a route; apply the command-access
rule; run the handler in a savepoint, so a user mistake (DomainError) or a bug undoes the handler's effects
but not the claim.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from cards.keys import CardKey
from chat.commandline import tidy_args
from chat.dialogs import SqlDialogStore
from chat.errors import DomainError
from chat.inbound import Inbound
from chat.replies import Reply, Text
from chat.router import Ctx, HandlerResult, Redispatch, Route, RouteTable
from models import User, norm_userid

if TYPE_CHECKING:
    from chat.settings import Settings
    from services.config import BusinessConfig

log = logging.getLogger("salesbot.dispatch")

NOT_IN_ORG = "您好！您还不在销售助手的人员名单中，暂时无法使用。请联系管理员把您加入组织架构后再试。"
INTERNAL_ERROR = "抱歉，系统暂时出了点问题，这次操作没有生效。请稍后再试；如果一直不行，请联系管理员。"
BAD_BUTTON = "这个按钮已失效或无法识别，没有做任何更改。"

_SPACES = re.compile(r"\s+")


def normalize_command_text(content: str) -> str:
    """Whitespace folded (full-width spaces included); the characters themselves are kept as typed.

    Free text — a visit's 纪要, a reason, a follow-up's 事项 — is stored as the user wrote it (Chinese
    punctuation stays Chinese); each parser (amounts, phones, dates, `字段=值`) folds full-width forms itself.
    """
    return _SPACES.sub(" ", (content or "").replace("\u3000", " ")).strip()


_FIRST_WORD = re.compile(r"^([^\s，,：:、；;。]+)[\s，,：:、；;。]*(.*)$", re.S)


def split_command(content: str, words: list[str]) -> tuple[str | None, str]:
    """The first word is the command when it is exactly a command word; Chinese punctuation after it and between
    its structured arguments separates like a space (`拜访：金桥精工，吴工确认了图纸`, see chat/commandline.py).

    Anything else (a sentence, a command word glued to more text such as `报价批了吗`) is not a command: the
    first word comes back for the understanding step and the fallback to work with.
    """
    text = normalize_command_text(content)
    if not text:
        return None, ""
    match = _FIRST_WORD.match(text)
    if match is None:  # only punctuation
        return None, text
    first, rest = match.group(1), match.group(2)
    folded = unicodedata.normalize("NFKC", first)
    if folded in words:
        return folded, tidy_args(folded, rest.strip())
    return folded, text[len(first) :].strip()


def left_dialog_notice(label: str | None) -> Text:
    """One line when a new message leaves an open dialog: `已退出刚才的驳回（报价 #12），未做更改。`."""
    return Text(f"已退出刚才的{label}，未做更改。" if label else "已退出刚才未完成的操作，未做更改。")


def typed_as_command(content: str) -> bool:
    """The first word is set off like a command's (a space or a colon: `同意 #39`, `拜访：金桥 …`), not like
    the start of a sentence (`报价，太高了`)."""
    text = normalize_command_text(content)
    match = _FIRST_WORD.match(text)
    if match is None:
        return False
    after = text[len(match.group(1)) : len(match.group(1)) + 1]
    return after in (" ", ":", "：")


LEFT_PICK = "已退出刚才的选择。"


def is_numbered_pick(state: str) -> bool:
    """The dialogs that wait for a number from a list (handlers/common.py's "pick.*", a proposal's pick)."""
    return state.startswith("pick.") or state == "propose.pick"


def answers_a_pick(args_text: str) -> bool:
    """`2`, `２`, `2。`: a number is the answer to a numbered pick; anything else is a new message."""
    folded = unicodedata.normalize("NFKC", args_text).strip().rstrip("。.")
    return folded.isdigit()


def _leaves_dialog(
    routes: RouteTable, user: User, step: Route | None, command: str, args: str, content: str
) -> bool:
    """Whether a text starting with a command word leaves the open dialog and runs as a new message.

    `取消` stays (it cancels the dialog). A command word on its own leaves. With arguments, an exact command of
    the sender's (a route their role may use, typed as a command: `同意 #39`, `跟进 海川 3天后 回访`) leaves too,
    unless the dialog's step takes command lines as answers (`takes_commands`); anything else — a reason that
    starts like `报价，太高了`, a command the sender may not use — is the dialog's answer.
    """
    if command == "取消":
        return False
    if not args:
        return True
    if step is not None and step.takes_commands:
        return False
    route = routes.command_route(command)
    allowed = route is not None and (route.info is None or route.info.allows(user.role))
    return allowed and typed_as_command(content)


class NeedsIsolation(Exception):
    """A handler failed after it had written: only a rollback of the whole transaction undoes it."""


WRITES = "salesbot_writes"


def count_writes(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """`before_cursor_execute` listener: counts, per connection, statements that may have changed data
    (anything but a plain SELECT), so `handle` knows whether a failed handler left something to undo."""
    if not statement.lstrip()[:6].upper().startswith("SELECT"):
        conn.info[WRITES] = conn.info.get(WRITES, 0) + 1


def _undo(session: Session, savepoint: Any, writes_before: int, exc: BaseException) -> None:
    if savepoint is not None:
        savepoint.rollback()
        return
    wrote = session.connection().info.get(WRITES, 0) != writes_before
    if wrote or session.new or session.dirty or session.deleted or isinstance(exc, DBAPIError):
        raise NeedsIsolation from exc


def handle(
    session: Session,
    msg: Inbound,
    *,
    now: datetime,
    routes: RouteTable,
    settings: Settings,
    config: BusinessConfig,
    services: dict[str, Any],
    after_commit: list[Callable[[], None]],
    sender: tuple[User | None, SqlDialogStore] | None = None,
    isolated: bool = True,
) -> list[Reply]:
    """Route `msg` and run its handler; the replies (for the sender unless a reply names `to`).

    `sender`: the active user (None: not in the org) and a dialog store, when the caller has read them
    already in this transaction (a worker reads a whole batch's senders with one query).

    `isolated=False` (a worker's batch) runs the handler without a savepoint, saving its two round trips:
    a handler that fails before writing anything (the usual user mistake) needs no undo; one that fails
    after a write raises `NeedsIsolation`, and the caller rolls the batch back and handles it again isolated.
    """
    userid = norm_userid(msg.userid)
    if sender is None:
        user = session.scalar(select(User).where(User.userid == userid, User.active.is_(True)))
        dialogs = SqlDialogStore(session)
    else:
        user, dialogs = sender
    if user is None:
        if msg.kind in ("text", "card_event"):
            return [Text(NOT_IN_ORG)]
        return []
    dialog = dialogs.get(userid=userid, now=now)
    command, args = (None, "")
    card_key = None
    if msg.kind == "text":
        command, args = split_command(msg.content, routes.command_words())
    elif msg.kind == "card_event":
        card_key = CardKey.unpack(msg.event_key)
        if card_key is None:
            return [Text(BAD_BUTTON)]
    notices: list[Reply] = []
    if (
        dialog is not None
        and msg.kind == "text"
        and is_numbered_pick(dialog.state)
        and not (command == "取消" and not args)
        and not answers_a_pick(msg.content or "")
    ):
        # Not a number: not the answer to the pick. Leave it, say so in one line, and handle the message as
        # if no dialog were open (a command runs, free text goes to the understanding step).
        dialogs.clear(userid=userid)
        notices.append(Text(LEFT_PICK))
        dialog = None
    if dialog is not None and msg.kind == "text" and command in routes.command_words():
        step = routes.state_route(dialog.state)
        if _leaves_dialog(routes, user, step, command, args, msg.content or ""):
            dialogs.clear(userid=userid)
            notices.append(left_dialog_notice(step.dialog_label(dialog.data) if step else None))
            dialog = None
        elif args:
            command = None  # the dialog's answer, even though it starts with a command word
    route = routes.match(
        msg,
        command=command,
        dialog_state=dialog.state if dialog else None,
        card_action=card_key.action if card_key else None,
    )
    if route is None:
        return [Text(BAD_BUTTON)] if msg.kind == "card_event" else []
    if route.info and not route.info.allows(user.role):
        return [Text(route.info.refusal())]
    ctx = Ctx(
        session=session,
        user=user,
        settings=settings,
        config=config,
        now=now,
        dialogs=dialogs,
        dialog=dialog,
        args=args if route.kind == "command" else normalize_command_text(msg.content),
        command=command or "",
        card_key=card_key,
        services=services,
        routes=routes,
        after_commit=after_commit,
    )
    savepoint = session.begin_nested() if isolated else None
    writes_before = session.connection().info.get(WRITES, 0)
    try:
        result = route.handler(msg, ctx)
        if isinstance(
            result, Redispatch
        ):  # a pick's choice: run the command as if typed (a refusal is answered)
            try:
                result = run_command(msg, ctx, command=result.command, args=result.args)
            except DomainError as exc:
                result = Text(exc.message)
        if savepoint is not None:
            savepoint.commit()
    except DomainError as exc:
        _undo(session, savepoint, writes_before, exc)
        after_commit.clear()
        return [Text(exc.message)]
    except OperationalError:
        raise
    except Exception as exc:
        _undo(session, savepoint, writes_before, exc)
        after_commit.clear()
        log.exception("handler %s failed", getattr(route.handler, "__qualname__", route.handler))
        return [Text(INTERNAL_ERROR)]
    if result is None:
        return notices
    assert not isinstance(result, Redispatch)  # run above
    return notices + (list(result) if isinstance(result, list) else [result])


def run_command(msg: Inbound, ctx: Ctx, *, command: str, args: str) -> HandlerResult:
    """Run a command's own handler as the sender, in its own savepoint (a refusal undoes only its effects).

    What a numbered pick's `Redispatch` and a confirmed proposal run: the same route, the same access rule on the
    user's current record, as if the command had been typed. Raises DomainError when it refuses.
    """
    route = ctx.routes.command_route(command) if ctx.routes else None
    if route is None:
        raise DomainError("这个选择已失效，请重新发送命令。")
    if route.info and not route.info.allows(ctx.user.role):
        raise DomainError(route.info.refusal())
    savepoint = ctx.session.begin_nested()
    try:
        result = route.handler(msg, dataclasses.replace(ctx, args=args, command=command, dialog=None))
    except DomainError:
        savepoint.rollback()
        raise
    savepoint.commit()
    if isinstance(result, Redispatch):
        raise RuntimeError(f"command {command} answered with another Redispatch")
    return result
