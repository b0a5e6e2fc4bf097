"""Every method and notification of the local API with its types: one table for the server,
the tests and the doc check.

`ApiServer.register` takes a `Method[P, R]` and a handler of P returning R, so mypy checks each
handler against the table; the server decodes params into P before the handler runs.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from agent.api.params import (
    DeleteParams,
    JobKeyParams,
    LoginParams,
    NoParams,
    Params,
    ReleaseParams,
)
from agent.api.payloads import (
    Account,
    CopyProgress,
    CopyResult,
    Countdown,
    Deleted,
    Expired,
    HeldJob,
    JobStatus,
    LoggedOut,
    LoginRefused,
    Ok,
    PrinterStatus,
    Release,
    Session,
    Touched,
)

P = TypeVar("P", bound=Params)
R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Method(Generic[P, R]):
    name: str
    params: type[P]
    result: Any
    """The result's type as written (`list[HeldJob]`, `Session | None`): R at run time."""


@dataclass(frozen=True)
class Notification(Generic[T]):
    name: str
    params: Any
    """The params' type as written: T at run time."""


SESSION_LOGIN = Method[LoginParams, Session]("session.login", LoginParams, Session)
SESSION_LOGOUT = Method[NoParams, Ok]("session.logout", NoParams, Ok)
SESSION_STATUS = Method[NoParams, Session | None]("session.status", NoParams, Session | None)
SESSION_TOUCH = Method[NoParams, Touched]("session.touch", NoParams, Touched)
JOBS_LIST = Method[NoParams, list[HeldJob]]("jobs.list", NoParams, list[HeldJob])
JOBS_RELEASE = Method[ReleaseParams, list[Release]]("jobs.release", ReleaseParams,
                                                    list[Release])
JOBS_DELETE = Method[DeleteParams, Deleted]("jobs.delete", DeleteParams, Deleted)
JOBS_CANCEL = Method[JobKeyParams, Ok]("jobs.cancel", JobKeyParams, Ok)
JOBS_STATUS = Method[JobKeyParams, JobStatus]("jobs.status", JobKeyParams, JobStatus)
JOBS_EXPIRED = Method[NoParams, list[Expired]]("jobs.expired", NoParams, list[Expired])
ACCOUNT_SUMMARY = Method[NoParams, Account]("account.summary", NoParams, Account)
PRINTER_STATUS = Method[NoParams, PrinterStatus]("printer.status", NoParams, PrinterStatus)
COPY_START = Method[NoParams, CopyProgress]("copy.start", NoParams, CopyProgress)
COPY_STOP = Method[NoParams, CopyResult]("copy.stop", NoParams, CopyResult)
COPY_STATUS = Method[NoParams, CopyProgress | None]("copy.status", NoParams,
                                                    CopyProgress | None)
SUBSCRIBE = Method[NoParams, Ok]("subscribe", NoParams, Ok)

METHODS: dict[str, Method[Any, Any]] = {m.name: m for m in (
    SESSION_LOGIN, SESSION_LOGOUT, SESSION_STATUS, SESSION_TOUCH, JOBS_LIST, JOBS_RELEASE,
    JOBS_DELETE, JOBS_CANCEL, JOBS_STATUS, JOBS_EXPIRED, ACCOUNT_SUMMARY, PRINTER_STATUS,
    COPY_START, COPY_STOP, COPY_STATUS, SUBSCRIBE)}

SESSION = Notification[Session | LoggedOut]("session", Session | LoggedOut)
LOGIN_REFUSED = Notification[LoginRefused]("login.refused", LoginRefused)
JOB_PROGRESS = Notification[JobStatus]("job.progress", JobStatus)
JOB_RESULT = Notification[JobStatus]("job.result", JobStatus)
PRINTER = Notification[PrinterStatus]("printer", PrinterStatus)
TIMEOUT = Notification[Countdown]("timeout", Countdown)
COPY_PROGRESS = Notification[CopyProgress | CopyResult]("copy.progress",
                                                        CopyProgress | CopyResult)

NOTIFICATIONS: dict[str, Notification[Any]] = {n.name: n for n in (
    SESSION, LOGIN_REFUSED, JOB_PROGRESS, JOB_RESULT, PRINTER, TIMEOUT, COPY_PROGRESS)}


def structs_in(kind: Any) -> list[type[msgspec.Struct]]:
    """The Structs a written type is made of: `list[A] | None` → [A]."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return [kind]
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is not None:
        return [s for arg in typing.get_args(kind) for s in structs_in(arg)]
    return []


def convert(value: Any, kind: Any) -> Any:
    """`value` (decoded JSON) as the written type `kind`, strictly.

    msgspec decodes a union of Structs only when tagged; ours are told apart by their fields,
    so each Struct of such a union is tried in turn.
    """
    options = structs_in(kind)
    if isinstance(value, dict) and len(options) > 1:
        errors = []
        for option in options:
            try:
                return msgspec.convert(value, option)
            except msgspec.ValidationError as exc:
                errors.append(f"as {option.__name__}: {exc}")
        raise msgspec.ValidationError("; ".join(errors))
    return msgspec.convert(value, kind)


class Notify(Protocol):
    """How parts of the agent push a notification: mypy checks the params against its type."""

    def __call__(self, note: Notification[T], params: T, /) -> None: ...
