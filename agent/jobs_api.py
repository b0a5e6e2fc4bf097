"""The jobs.* methods: list held jobs with prices, release with a credit check, delete."""

from __future__ import annotations

from agent.accounts import Balances
from agent.api.payloads import HeldJob, Release
from agent.api.protocol import ApiError
from agent.denial import check_credit
from agent.estimate import Estimate, estimate, two_sided
from agent.ledger import JobInFlight
from agent.ledger.models import NewJob
from agent.metering.holdqueue import HoldQueue
from agent.metering.meter import Meter
from agent.money import format_money
from agent.pricing import PriceTable
from drivers.ipp.client import IppError
from drivers.ipp.models import JobInfo


class JobsApi:
    def __init__(self, *, printer: str, queue: HoldQueue, meter: Meter, prices: PriceTable,
                 balances: Balances, currency: str) -> None:
        self.printer = printer
        self.queue = queue
        self.meter = meter
        self.prices = prices
        self.balances = balances
        self.currency = currency

    def estimate(self, job: JobInfo) -> Estimate:
        """Its price, or a deposit when nobody could count its pages."""
        return estimate(job, self.prices)

    async def held(self, user: str) -> list[JobInfo]:
        try:
            return await self.queue.held_jobs(user)
        except IppError as exc:
            raise ApiError("printer-unreachable", f"Cannot reach the print queue: {exc}") from exc

    async def listing(self, user: str) -> list[HeldJob]:
        """Held jobs, minus those already released here and waiting for the printer."""
        busy = self.meter.in_flight()
        return [self._held_view(job) for job in await self.held(user) if job.id not in busy]

    def _held_view(self, job: JobInfo) -> HeldJob:
        est = self.estimate(job)
        return HeldJob(
            id=job.id,
            name=job.name,
            submitted_at=job.created_at.isoformat() if job.created_at else None,
            pages=est.pages,
            impressions=est.impressions if est.kind == "counted" else None,
            copies=job.copies,
            color=job.color,
            duplex=two_sided(job.sides),
            media=job.media,
            estimate=est.cost,
            estimate_text=format_money(est.cost, self.currency),
            estimate_kind=est.kind,
        )

    async def release(self, user: str, ids: list[int] | None) -> list[Release]:
        busy = self.meter.in_flight()
        held = {job.id: job for job in await self.held(user) if job.id not in busy}
        wanted = list(held) if ids is None else ids
        printing = [i for i in wanted if i in busy]
        if printing:
            raise ApiError("not-found", f"Job {printing[0]} is already being printed")
        missing = [i for i in wanted if i not in held]
        if missing:
            raise ApiError("not-found", f"No held job {missing[0]} for {user}",
                           {"ids": missing})
        if not wanted:
            raise ApiError("not-found", "You have no held jobs")
        estimates = {i: self.estimate(held[i]) for i in wanted}
        check_credit(await self.balances.credit(user), sum(e.cost for e in estimates.values()),
                     self.currency,
                     deposit=sum(e.cost for e in estimates.values() if e.kind == "deposit"))
        out = []
        for job_id in wanted:
            job, est = held[job_id], estimates[job_id]
            new = NewJob(printer=self.printer, source=self.queue.source,
                         queue_job_id=job.id, user=user, name=job.name,
                         impressions=est.impressions, color=job.color,
                         duplex=two_sided(job.sides), media=job.media, estimate=est.cost)
            try:
                job_key = self.meter.enqueue(new)
            except JobInFlight as exc:  # a second panel released it a moment ago
                raise ApiError("not-found", f"Job {job_id} is already being printed",
                               {"job_key": exc.job_key}) from exc
            out.append(Release(id=job_id, job_key=job_key, estimate=new.estimate,
                               estimate_text=format_money(new.estimate, self.currency)))
        return out

    async def delete(self, user: str, ids: list[int]) -> list[int]:
        held = {job.id for job in await self.held(user)}
        deleted = []
        for job_id in ids:
            if job_id not in held:
                raise ApiError("not-found", f"No held job {job_id} for {user}")
            try:
                await self.queue.cancel(job_id)
            except IppError as exc:
                raise ApiError("printer-unreachable", f"Could not delete job: {exc}") from exc
            deleted.append(job_id)
        return deleted
