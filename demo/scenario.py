"""The story the demo tells: jobs sent over IPP, then released at the device through the API.

Everything goes through the same doors as in real life: workstations print over IPP with
`job-hold-until=indefinite`, the user logs in and releases through the agent's local API
(exactly what the touch panel does), and the "operator" fixes the jam through the
simulator's control API. The printer's faults are the only thing staged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from agent.api.client import ApiClient, ApiError
from demo.pdf import sample_pdf
from demo.world import user
from drivers.ipp.client import IppClient
from simulator.client import SimClient


@dataclass(frozen=True)
class SampleJob:
    user: str
    title: str
    pages: int
    color: bool
    plan: str  # "normal" | "jam" | "cancel" | "denied"

    @property
    def kind(self) -> str:
        return "colour" if self.color else "mono"


JAM_PAGE = 3
CANCEL_AFTER = 2

JOBS = (
    SampleJob("alice", "Quarterly report.pdf", 5, False, "normal"),
    SampleJob("alice", "Holiday photos.pdf", 12, True, "cancel"),
    SampleJob("bob", "Poster proof.pdf", 12, True, "denied"),
    SampleJob("bob", "Thesis draft.pdf", 8, False, "jam"),
)

PANEL_JOBS = (
    SampleJob("alice", "Try the panel.pdf", 3, False, "normal"),
    SampleJob("bob", "Bob's notes.pdf", 2, False, "normal"),
)

STOP_WORDS = {"jam": "paper jam", "paper-out": "out of paper"}

PLAN_NOTES = {
    "normal": "",
    "jam": f"the printer will jam at page {JAM_PAGE}",
    "cancel": f"alice will cancel it after page {CANCEL_AFTER}",
    "denied": "costs more than bob has",
}


@dataclass(frozen=True)
class Timing:
    ppm: float
    warmup_s: float
    operator_delay_s: float
    job_timeout_s: float
    pause_s: float  # between a person's actions, so the story can be followed


@dataclass
class ProgressLine:
    """Prints each change a person would notice: warm-up, every new page, a stop."""

    page: int = 0
    warming: bool = False
    stopped: bool = False

    def show(self, status: dict[str, Any]) -> None:
        state, printed, total = status["state"], int(status["printed"]), status["total"]
        if state == "printing" and printed == 0 and not self.warming:
            self.warming = True
            print("    printer warming up")
        for page in range(self.page + 1, printed + 1):
            print(f"    page {page} of {total}")
        self.page = max(self.page, printed)
        if state == "stopped" and not self.stopped:
            why = STOP_WORDS.get(str(status.get("stopped_for")), "a fault")
            print(f"    printer stopped after page {printed}: {why}")
        self.stopped = state == "stopped"


@dataclass
class Released:
    """One job released at the device, and what the agent settled for it."""

    job: SampleJob
    ipp_id: int
    estimate: int
    result: dict[str, Any] = field(default_factory=dict)


class Scenario:
    def __init__(self, ipp_uri: str, sim: SimClient, socket_path: str, timing: Timing) -> None:
        self.ipp_uri = ipp_uri
        self.sim = sim
        self.socket_path = socket_path
        self.timing = timing
        self.ipp_ids: dict[SampleJob, int] = {}
        self.released: list[Released] = []

    async def submit_all(self, jobs: tuple[SampleJob, ...] = JOBS) -> None:
        async with IppClient(self.ipp_uri, timeout=30.0) as ipp:
            for job in jobs:
                await self.submit(ipp, job)

    async def submit(self, ipp: IppClient, job: SampleJob) -> int:
        pdf = sample_pdf(job.title.removesuffix(".pdf"), job.pages, user(job.user).display_name)
        job_id = await ipp.print_job(pdf, name=job.title, user=job.user,
                                     document_format="application/pdf", hold=True,
                                     color=job.color)
        if job.plan == "jam":
            await asyncio.to_thread(self.sim.job_faults, job_id, jam_at=JAM_PAGE,
                                    jam_then="abort")
        self.ipp_ids[job] = job_id
        note = PLAN_NOTES[job.plan]
        print(f"  {job.user:<6} {job.title:<22} {job.pages:>2} pages {job.kind:<6}"
              f" -> held as job {job_id}{f'   ({note})' if note else ''}")
        return job_id

    async def release_all(self) -> None:
        api = await ApiClient.connect(self.socket_path)
        try:
            await api.call("subscribe")
            for name in ("alice", "bob"):
                await self.visit(api, name)
        finally:
            await api.close()

    async def visit(self, api: ApiClient, name: str) -> None:
        """One user at the device: log in, see the held jobs, release them one by one."""
        session = await api.call("session.login", {"code": user(name).code})
        print(f"\n  {name} enters an access code at the device: logged in as"
              f" {session['display_name']}, balance {session['balance_text']}")
        held = await api.call("jobs.list")
        for h in held:
            print(f"    held: {h['name']:<22} {h['pages']:>2} pages  estimate"
                  f" {h['estimate_text']}")
        for job in (j for j in JOBS if j.user == name):
            await asyncio.sleep(self.timing.pause_s)
            await self.release(api, job)
        await api.call("session.logout")
        print(f"  {name} logs out")

    async def release(self, api: ApiClient, job: SampleJob) -> None:
        job_id = self.ipp_ids[job]
        print(f"  {job.user} releases {job.title!r}")
        try:
            [ticket] = await api.call("jobs.release", {"ids": [job_id]})
        except ApiError as exc:
            if exc.kind != "denied" or job.plan != "denied":
                raise
            print(f"    the device says: {exc.message}")
            await api.call("jobs.delete", {"ids": [job_id]})
            print(f"    {job.user} deletes the job instead (no charge)")
            return
        released = Released(job, job_id, int(ticket["estimate"]))
        print(f"    charged the estimate up front: {ticket['estimate_text']}")
        async with asyncio.timeout(self.timing.job_timeout_s):
            released.result = await self.follow(api, job, ticket["job_key"])
        r = released.result
        refund = f", refunded {r['refunded_text']}" if r["refunded"] else ""
        print(f"    settled: {r['printed']} of {r['total']} pages printed, charged"
              f" {r['charged_text']}{refund} ({r['reason_text']})")
        self.released.append(released)

    async def follow(self, api: ApiClient, job: SampleJob, job_key: str) -> dict[str, Any]:
        """Live progress until the job's result; plays the operator and the impatient user."""
        progress = ProgressLine()
        cancelled = False
        operator: asyncio.Task[None] | None = None
        try:
            async for method, params in api.notifications():
                if method not in ("job.progress", "job.result") or params["job_key"] != job_key:
                    continue
                progress.show(params)
                if method == "job.result":
                    return dict(params)
                if params["state"] == "stopped" and operator is None:
                    operator = asyncio.create_task(self.operator_clears())
                if job.plan == "cancel" and params["printed"] >= CANCEL_AFTER and not cancelled:
                    cancelled = True
                    print(f"    {job.user} presses Cancel on the panel")
                    await api.call("jobs.cancel", {"job_key": job_key})
        finally:
            if operator is not None:
                await operator
        raise ApiError("agent-unreachable", "the agent closed the connection mid-job")

    async def operator_clears(self) -> None:
        await asyncio.sleep(self.timing.operator_delay_s)
        print("    operator clears the jam")
        await asyncio.to_thread(self.sim.clear)
