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

from agent.api.client import ApiClient, ApiError
from ui import strings
from ui.host import ControllerHost

log = logging.getLogger("pagetally.panel")

RECONNECT_S = 1.0
TOUCH_EVERY_S = 5.0
LOST = (ApiError, OSError)


class Controller:
    def __init__(self, app: ControllerHost, socket_path: str) -> None:
        self.app = app
        self.socket_path = socket_path
        self.client: ApiClient | None = None
        self.logged_in = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._early: dict[str, dict[str, Any]] = {}
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
                self.client = await ApiClient.connect(self.socket_path)
                await self.client.call("subscribe")
                self._down = False
                self._on_printer(await self.client.call("printer.status"))
                self._on_session(await self.client.call("session.status"), fresh=True)
                if self.logged_in:
                    self._on_copy(await self.client.call("copy.status"))
                async for method, params in self.client.notifications():
                    self._on_notification(method, params)
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
                session = await self._call("session.login", {"code": code})
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
        names = {int(row.job["id"]): str(row.job.get("name", "")) for row in jobs.rows}

        async def go() -> None:
            params: dict[str, Any] = {"all": True} if release_all else {"ids": ids}
            self._early.clear()
            self._following = True
            try:
                releases = await self._call("jobs.release", params)
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
            deleted = await self._call("jobs.delete", {"ids": ids})
            await self._refresh_jobs()
            self.app.screen("jobs").show_info(
                strings.JOBS_DELETED.format(count=len(deleted.get("deleted", []))))

        self._spawn(go(), on_error=self.app.screen("jobs").show_error)

    def cancel(self, job_key: str) -> None:
        self._spawn(self._call("jobs.cancel", {"job_key": job_key}),
                    on_error=self.app.screen("releasing").show_error)

    def open_account(self) -> None:
        account = self.app.screen("account")
        account.show_loading()
        self.app.go("account")

        async def go() -> None:
            account.show_account(await self._call("account.summary"))

        self._spawn(go(), on_error=account.show_error)

    def logout(self) -> None:
        async def go() -> None:
            await self._call("session.logout")
            self._on_session(None)

        self._spawn(go())

    def start_copy(self) -> None:
        """Switch the copier on for the user; the copy screen follows the session."""
        copying = self.app.screen("copy")
        copying.starting()
        self.app.go("copy")

        async def go() -> None:
            try:
                view = await self._call("copy.start")
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
            self._on_copy(await self._call("copy.stop"))

        self._spawn(go(), on_error=copying.stop_failed)

    def stay(self) -> None:
        self.app.logout_warning.hide()
        self._spawn(self._call("session.touch"))

    def user_touched(self) -> None:
        """Any touch while logged in tells the agent the user is still there (throttled)."""
        now = time.monotonic()
        if self.logged_in and now - self._last_touch > TOUCH_EVERY_S:
            self._last_touch = now
            self._spawn(self._call("session.touch"), on_error=lambda _m: None)

    # notifications ---------------------------------------------------------------------

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "session":
            self._on_session(params)
        elif method == "printer":
            self._on_printer(params)
        elif method == "job.progress" and isinstance(params, dict):
            self.app.screen("releasing").show_progress(params)
        elif method == "job.result" and isinstance(params, dict):
            self._on_result(params)
        elif method == "copy.progress" and isinstance(params, dict):
            self._on_copy(params)
        elif method == "login.refused" and isinstance(params, dict):
            self._show_error(str(params.get("message", "")))
        elif method == "timeout" and isinstance(params, dict) and self.logged_in:
            self.app.logout_warning.show_countdown(int(params.get("seconds_left", 0)))

    def _on_session(self, session: Any, fresh: bool = False) -> None:
        if isinstance(session, dict) and session.get("user"):
            was_in = self.logged_in
            self.logged_in = True
            self.app.balance_text = str(session.get("balance_text", ""))
            self.app.offline = bool(session.get("offline")) or self.app.offline
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
        reason = session.get("reason") if isinstance(session, dict) else None
        if was_in:
            idle = self.app.idle_screen()
            idle.banner.show(strings.LOGGED_OUT_TIMEOUT if reason == "timeout"
                             else strings.LOGGED_OUT, "info")

    def _on_printer(self, status: Any) -> None:
        if not isinstance(status, dict):
            return
        if "copier" in status:  # printer.status says it; the `printer` notification does not
            self.copier = bool(status["copier"])
            self.app.screen("jobs").show_copier(self.copier)
        self.app.offline = not status.get("online", True)
        self.app.idle_screen().show_printer(status)
        self.app.screen("alerts").show_printer(status)

    def _on_result(self, status: dict[str, Any]) -> None:
        if not self._following:
            return
        key = str(status.get("job_key", ""))
        releasing = self.app.screen("releasing")
        if key not in releasing.names:
            self._early[key] = status
            return
        if releasing.show_result(status):
            self._finish_release()

    def _on_copy(self, view: Any) -> None:
        """A copy session's progress or result, for the copy screen while logged in; the
        result of one that ended with the logout, on the login screen."""
        if not isinstance(view, dict):
            return
        key = str(view.get("session_key", ""))
        if key and key == self._copy_at_logout:  # of a user no longer logged in here
            if view.get("state") != "copying":
                self._copy_at_logout = ""
                if not self.logged_in:  # not over the next user's screens
                    self.app.screen("copy").show_result(view)
                    self.app.idle_screen().show_copy_result(view)
            return
        if not self.logged_in:
            return
        copying = self.app.screen("copy")
        if view.get("state") == "copying":
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
        jobs.show_jobs(await self._call("jobs.list"))
        expired = await self._call("jobs.expired")
        if expired:
            jobs.show_expired(expired)
        await self._refresh_balance()

    async def _refresh_balance(self) -> None:
        session = await self._call("session.status")
        if isinstance(session, dict) and session.get("user"):
            self.app.balance_text = str(session.get("balance_text", ""))

    async def _call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self.client is None:
            raise ApiError("agent-unreachable", strings.ERROR_AGENT_LOST)
        try:
            return await self.client.call(method, params or {})
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
