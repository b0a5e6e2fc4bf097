"""A small blocking client of the simulator's /sim/ control API, for tests and benchmarks."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


class SimControlError(Exception):
    """The simulator refused a control request; the message is its reason."""


class SimClient:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise SimControlError(f"{method} {path}: {exc.code} {message}") from exc

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/sim/state")

    def counters(self) -> dict[str, int]:
        return self.state()["counters"]

    def job(self, job_id: int) -> dict[str, Any]:
        for job in self.state()["jobs"]:
            if job["id"] == job_id:
                return job
        raise SimControlError(f"job {job_id} is not on the simulator")

    def job_faults(self, job_id: int | None = None, **faults: Any) -> None:
        self._call("POST", "/sim/faults/job", {"job_id": job_id, **faults})

    def device(self, **faults: Any) -> dict[str, Any]:
        return self._call("POST", "/sim/faults/device", faults)

    def profiles(self, *names: str) -> dict[str, Any]:
        """Imitate these quirk profiles (none: back to the tidy device)."""
        return self._call("POST", "/sim/profiles", {"profiles": list(names)})

    def index(self) -> dict[str, Any]:
        """GET /sim/: the control endpoints and the quirk profiles."""
        return self._call("GET", "/sim/")

    def copy(self, pages: int, color: bool = False, user: str = "walk-up") -> int:
        return self._call("POST", "/sim/copy", {"pages": pages, "color": color,
                                                "user": user})["copy_id"]

    def board(self) -> dict[str, Any]:
        """The copier board: its pty path, relay, counters, plug and line state."""
        return self._call("GET", "/sim/board")

    def board_copy(self, pages: int, color: bool = False, size: str = "A4") -> dict[str, int]:
        """Copy at the copier behind the board: pages made while the board enables it."""
        return self._call("POST", "/sim/board/copy", {"pages": pages, "color": color,
                                                      "size": size})

    def submit(self, name: str, user: str, pages: int, **options: Any) -> int:
        body = {"name": name, "user": user, "pages": pages, **options}
        return self._call("POST", "/sim/submit", body)["job_id"]

    def power_cycle(self) -> None:
        self._call("POST", "/sim/power-cycle", {})

    def cancel_at_device(self, job_id: int) -> None:
        self._call("POST", f"/sim/jobs/{job_id}/cancel-at-device")

    def clear(self) -> None:
        self._call("POST", "/sim/clear")

    def sleep(self) -> bool:
        return self._call("POST", "/sim/sleep")["asleep"]

    def wake(self) -> None:
        self._call("POST", "/sim/wake")

    def reset_counters(self) -> dict[str, int]:
        return self._call("POST", "/sim/counters/reset")["counters"]

    def wrap_counter(self, pages_before_wrap: int = 2) -> dict[str, int]:
        body = {"pages_before_wrap": pages_before_wrap}
        return self._call("POST", "/sim/counters/wrap", body)["counters"]

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0,
                 what: str = "condition") -> dict[str, Any]:
        """Poll the ground truth until `predicate(state)` holds; fail loudly on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"simulator: {what} not reached within {timeout} s")
            time.sleep(0.02)

    def wait_job(self, job_id: int, states: tuple[str, ...], timeout: float = 30.0
                 ) -> dict[str, Any]:
        def done(state: dict[str, Any]) -> bool:
            return any(j["id"] == job_id and j["state"] in states for j in state["jobs"])

        self.wait_for(done, timeout, f"job {job_id} in {states}")
        return self.job(job_id)
