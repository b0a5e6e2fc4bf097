"""The panel's only link to the agent: API calls for taps, notifications for screens.

The controller keeps no business state. It forwards what the user asks for to the agent's
local API and routes the answers and notifications to the screens. It reconnects when the
agent restarts, so the panel can start before the agent does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agent.api import methods as api
from agent.api.client import ApiError
from agent.api.methods import Method, P, R
from agent.api.params import DeleteParams, JobKeyParams, LoginParams, NoParams, ReleaseParams
from agent.api.payloads import (
    CopyProgress,
    CopyResult,
    Countdown,
    JobStatus,
    LoggedOut,
    LoginRefused,
    PrinterStatus,
    Session,
)
from ui import strings
from ui.agent_api import AgentApi, BadAnswer
from ui.host import ControllerHost

log = logging.getLogger("pagetally.panel")

RECONNECT_S = 1.0
TOUCH_EVERY_S = 5.0
LOST = (ApiError, OSError)
NONE = NoParams()


class Controller:
    def __init__(self, app: ControllerHost, socket_path: str) -> None:
        self.app = app
        self.socket_path = socket_path
        self.client: AgentApi | None = None
        self.logged_in = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._early: dict[str, JobStatus] = {}
        self._following = False
        self._last_touch = 0.0
        self._down = False
        self.copier = False
        self._copy_at_logout = ""
        """The copy session that was running when the user logged out: it settles after,
        and its result goes on the login screen."""

    # lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._runner = asyncio.get_running_loop().create_task(self.run(), name="panel-api")

    async def close(self) -> None:
        for task in [*self._tasks, *([self._runner] if self._runner else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._runner] if self._runner else []),
                             return_exceptions=True)
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def run(self) -> None:
        """Connect, subscribe, mirror the agent's state, then follow its notifications."""
        while True:
            try:
                self.client = await AgentApi.connect(self.socket_path)
                await self.client.call(api.SUBSCRIBE, NONE)
                self._down = False
                await self._mirror()
                async for name, payload in self.client.notifications():
                    self._on_notification(name, payload)
                log.warning("the agent closed the API connection; reconnecting")
            except LOST as exc:
                level = logging.DEBUG if self._down else logging.WARNING
                log.log(level, "agent API unavailable (%s); retrying every %.0f s", exc,
                        RECONNECT_S)
                self._down = True
            if self.client is not None:
                await self.client.close()
                self.client = None
            self.app.idle_screen().show_agent_down()
            await asyncio.sleep(RECONNECT_S)

    # actions from taps -----------------------------------------------------------------

    def login_code(self, code: str) -> None:
        async def go() -> None:
            try:
                session = await self._call(api.SESSION_LOGIN, LoginParams(code=code))
            except ApiError as exc:
                message = exc.message
                if exc.kind == "locked" and exc.data.get("retry_after"):
                    message = strings.KEYPAD_LOCKED.format(message=message,
                                                           seconds=exc.data["retry_after"])
                self.app.screen("keypad").show_error(message)
                return
            self._on_session(session)

        self._spawn(go())

    def show_jobs(self) -> None:
        self.app.go("jobs")
        self._spawn(self._refresh_jobs())

    def release(self, ids: list[int], release_all: bool = False) -> None:
        jobs = self.app.screen("jobs")
        names = {row.job.id: row.job.name for row in jobs.rows}

        async def go() -> None:
            params = ReleaseParams(all=True) if release_all else ReleaseParams(ids=ids)
            self._early.clear()
            self._following = True
            try:
                releases = await self._call(api.JOBS_RELEASE, params)
            except ApiError as exc:
                self._following = False
                if exc.kind == "denied":
                    jobs.show_denied(exc.message)
                else:
                    jobs.show_error(exc.message)
                return
            if not releases:
                self._following = False
                await self._refresh_jobs()
                return
            releasing = self.app.screen("releasing")
            releasing.start(releases, names, dict(self._early))
            self.app.go("releasing")
            if releasing.all_done():
                self._finish_release()

        self._spawn(go())

    def delete(self, ids: list[int]) -> None:
        async def go() -> None:
            deleted = await self._call(api.JOBS_DELETE, DeleteParams(ids=ids))
            await self._refresh_jobs()
            self.app.screen("jobs").show_info(
                strings.JOBS_DELETED.format(count=len(deleted.deleted)))

        self._spawn(go(), on_error=self.app.screen("jobs").show_error)

    def cancel(self, job_key: str) -> None:
        self._spawn(self._call(api.JOBS_CANCEL, JobKeyParams(job_key=job_key)),
                    on_error=self.app.screen("releasing").show_error)

    def open_account(self) -> None:
        account = self.app.screen("account")
        account.show_loading()
        self.app.go("account")

        async def go() -> None:
            account.show_account(await self._call(api.ACCOUNT_SUMMARY, NONE))

        self._spawn(go(), on_error=account.show_error)

    def logout(self) -> None:
        async def go() -> None:
            await self._call(api.SESSION_LOGOUT, NONE)
            self._on_session(None)

        self._spawn(go())

    def start_copy(self) -> None:
        """Switch the copier on for the user; the copy screen follows the session."""
        copying = self.app.screen("copy")
        copying.starting()
        self.app.go("copy")

        async def go() -> None:
            try:
                view = await self._call(api.COPY_START, NONE)
            except ApiError as exc:
                if self.app.current_screen() == "copy":
                    self.app.go("jobs")
                self.app.screen("jobs").show_error(exc.message)
                return
            self._on_copy(view)

        self._spawn(go())

    def stop_copy(self) -> None:
        copying = self.app.screen("copy")

        async def go() -> None:
            result = await self._call(api.COPY_STOP, NONE)
            self._on_copy(result)

        self._spawn(go(), on_error=copying.stop_failed)

    def stay(self) -> None:
        self.app.logout_warning.hide()
        self._spawn(self._call(api.SESSION_TOUCH, NONE))

    def user_touched(self) -> None:
        """Any touch while logged in tells the agent the user is still there (throttled)."""
        now = time.monotonic()
        if self.logged_in and now - self._last_touch > TOUCH_EVERY_S:
            self._last_touch = now
            self._spawn(self._call(api.SESSION_TOUCH, NONE), on_error=lambda _m: None)

    # notifications ---------------------------------------------------------------------

    async def _mirror(self) -> None:
        """The agent's state on (re)connecting. An answer that does not decode is shown and
        the rest still read: the panel follows the notifications either way."""
        try:
            self._on_printer(await self._call(api.PRINTER_STATUS, NONE))
        except BadAnswer as exc:
            self._show_error(exc.message)
        try:
            session = await self._call(api.SESSION_STATUS, NONE)
            self._on_session(session, fresh=True)
            if self.logged_in:
                view = await self._call(api.COPY_STATUS, NONE)
                self._on_copy(view)
        except BadAnswer as exc:
            self._show_error(exc.message)

    def _on_notification(self, name: str, payload: object) -> None:
        match payload:
            case BadAnswer():
                self._show_error(payload.message)
            case Session() | LoggedOut():
                self._on_session(payload)
            case PrinterStatus():
                self._on_printer(payload)
            case JobStatus() if name == api.JOB_PROGRESS.name:
                self.app.screen("releasing").show_progress(payload)
            case JobStatus():
                self._on_result(payload)
            case CopyProgress() | CopyResult():
                self._on_copy(payload)
            case LoginRefused():
                self._show_error(payload.message)
            case Countdown() if self.logged_in:
                self.app.logout_warning.show_countdown(payload.seconds_left)

    def _on_session(self, session: Session | LoggedOut | None, fresh: bool = False) -> None:
        if isinstance(session, Session):
            was_in = self.logged_in
            self.logged_in = True
            self.app.balance_text = session.balance_text
            self.app.offline = session.offline or self.app.offline
            self.app.screen("jobs").show_session(session)
            self.app.logout_warning.hide()
            if not was_in or fresh:
                self._last_touch = time.monotonic()
                if self.app.current_screen() in {"idle", "keypad", "learn", "devices",
                                                 "alerts"}:
                    self.app.screen("jobs").show_loading()
                    self.show_jobs()
            return
        was_in = self.logged_in
        self.logged_in = False
        self._following = False
        if was_in:
            self._copy_at_logout = self.app.screen("copy").running
        self.app.balance_text = ""
        self.app.logout_warning.hide()
        self.app.go("idle")
        if was_in:
            timeout = isinstance(session, LoggedOut) and session.reason == "timeout"
            self.app.idle_screen().banner.show(
                strings.LOGGED_OUT_TIMEOUT if timeout else strings.LOGGED_OUT, "info")

    def _on_printer(self, status: PrinterStatus) -> None:
        self.copier = status.copier
        self.app.screen("jobs").show_copier(self.copier)
        self.app.offline = not status.online
        self.app.idle_screen().show_printer(status)
        self.app.screen("alerts").show_printer(status)

    def _on_result(self, status: JobStatus) -> None:
        if not self._following:
            return
        releasing = self.app.screen("releasing")
        if status.job_key not in releasing.names:
            self._early[status.job_key] = status
            return
        if releasing.show_result(status):
            self._finish_release()

    def _on_copy(self, view: CopyProgress | CopyResult | None) -> None:
        """A copy session's progress or result, for the copy screen while logged in; the
        result of one that ended with the logout, on the login screen."""
        if view is None:
            return
        if view.session_key and view.session_key == self._copy_at_logout:
            # of a user no longer logged in here
            if isinstance(view, CopyResult):
                self._copy_at_logout = ""
                if not self.logged_in:  # not over the next user's screens
                    self.app.screen("copy").show_result(view)
                    self.app.idle_screen().show_copy_result(view)
            return
        if not self.logged_in:
            return
        copying = self.app.screen("copy")
        if isinstance(view, CopyProgress):
            if copying.show_progress(view):
                self.app.go("copy")
        elif copying.show_result(view):
            self._spawn(self._refresh_balance(), on_error=lambda _m: None)

    def _finish_release(self) -> None:
        self._following = False
        self.app.screen("result").show_results(self.app.screen("releasing").ordered_results())
        self.app.go("result")
        self._spawn(self._refresh_balance(), on_error=lambda _m: None)

    # plumbing --------------------------------------------------------------------------

    async def _refresh_jobs(self) -> None:
        jobs = self.app.screen("jobs")
        jobs.show_jobs(await self._call(api.JOBS_LIST, NONE))
        expired = await self._call(api.JOBS_EXPIRED, NONE)
        if expired:
            jobs.show_expired(expired)
        await self._refresh_balance()

    async def _refresh_balance(self) -> None:
        session = await self._call(api.SESSION_STATUS, NONE)
        if session is not None:
            self.app.balance_text = session.balance_text

    async def _call(self, method: Method[P, R], params: P) -> R:
        if self.client is None:
            raise ApiError("agent-unreachable", strings.ERROR_AGENT_LOST)
        try:
            return await self.client.call(method, params)
        except OSError as exc:
            raise ApiError("agent-unreachable", strings.ERROR_AGENT_LOST) from exc

    def _spawn(self, coro: Awaitable[Any],
               on_error: Callable[[str], object] | None = None) -> None:
        """Run an API exchange in the background; its error goes to a screen in words."""
        async def guarded() -> None:
            try:
                await coro
            except ApiError as exc:
                if exc.kind == "not-logged-in" and self.logged_in:
                    self._on_session(None)
                    return
                log.info("API error: %s (%s)", exc.message, exc.kind)
                (on_error or self._show_error)(exc.message)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _show_error(self, message: str) -> None:
        screen = self.app.screen(self.app.current_screen())
        screen.show_error(message)
