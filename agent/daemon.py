"""The agent daemon: drivers, metering, sessions and the local API, on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import msgspec

from agent.accounts import Balances
from agent.api import methods as m
from agent.api.params import DeleteParams, JobKeyParams, NoParams, ReleaseParams
from agent.api.payloads import (
    Account,
    Deleted,
    Expired,
    HeldJob,
    JobStatus,
    Ok,
    PrinterStatus,
    Release,
)
from agent.api.protocol import ApiError
from agent.api.server import ApiServer
from agent.config import AgentConfig
from agent.copying.api import CopyApi
from agent.copying.board_evidence import BoardEvidence
from agent.copying.counter_evidence import CounterEvidence
from agent.copying.evidence import CopyEvidence
from agent.copying.life import CopySessionLife
from agent.documents import DocumentLimits, DocumentPages
from agent.heap import keep_large_allocations_out_of_the_heap
from agent.identity.accounts import LocalAccounts
from agent.identity.directory import AccountDirectory
from agent.identity.policy import CodePolicy
from agent.identity.ratelimit import RateLimiter
from agent.identity.readers import build, chain, parse_readers, run_readers
from agent.jobs_api import JobsApi
from agent.ledger import JobNotFound, Ledger
from agent.ledger.reasons import EXPIRED, reason_text
from agent.local_accounts import LedgerBalances
from agent.metering.expiry import HoldExpiry
from agent.metering.holdqueue import CupsHoldQueue, DeviceHoldQueue, HoldQueue
from agent.metering.meter import Meter
from agent.metering.poller import PrinterPoller
from agent.metering.print_job import MeterSettings
from agent.metering.probe import DeviceProbe
from agent.money import format_money
from agent.printer_watch import PrinterView, PrinterWatch
from agent.session_api import SessionApi
from agent.sync.central_sync import CentralSync
from agent.systemd_notify import Notifier
from drivers.ipp.client import IppClient
from drivers.snmp.profiles import load_profile
from drivers.snmp.reader import SnmpReader

log = logging.getLogger("pagetally.agent")

T = TypeVar("T")


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = cfg = config
        self.ledger = Ledger(cfg.ledger.path, device=cfg.device.id, site=cfg.device.site,
                             currency=cfg.device.currency)
        self.api = ApiServer(Path(cfg.api.socket))
        timeout = cfg.metering.ipp_timeout_s
        self.device_ipp = IppClient(cfg.printer.ipp_uri, timeout=timeout,
                                    tls_fingerprint=cfg.printer.tls_fingerprint)
        profile = load_profile(cfg.printer.snmp_profile)
        self.snmp = SnmpReader(cfg.printer.snmp_host, cfg.printer.snmp_port,
                               community=cfg.printer.snmp_community, profile=profile,
                               timeout=cfg.metering.snmp_timeout_s,
                               retries=cfg.metering.snmp_retries) \
            if cfg.printer.snmp_host else None
        self.queue_ipp: IppClient | None = None
        self.documents: DocumentPages | None = None
        self.queue: HoldQueue
        if cfg.printer.hold_source == "cups":
            self.queue_ipp = IppClient(cfg.printer.hold_uri, timeout=timeout)
            self.documents = DocumentPages(self.queue_ipp, DocumentLimits(
                max_bytes=cfg.printer.max_document_mb * 2**20,
                timeout_s=cfg.printer.document_timeout_s))
            self.queue = CupsHoldQueue(self.queue_ipp, self.device_ipp, self.documents)
        else:
            self.queue = DeviceHoldQueue(self.device_ipp)
        self.probe = DeviceProbe(self.device_ipp, self.snmp)
        self.poller = PrinterPoller(self.probe, fast_s=cfg.metering.poll_interval_s,
                                    slow_s=cfg.metering.status_interval_s)
        settings = MeterSettings(idle_polls=cfg.metering.idle_polls,
                                 settle_timeout=cfg.metering.settle_timeout_s,
                                 stall_timeout=cfg.metering.stall_timeout_s,
                                 refused_tries=cfg.metering.refused_tries,
                                 give_up_after=cfg.metering.give_up_after_s,
                                 counter_bits=profile.counter_bits,
                                 saves_every=profile.saves_every)
        self.central = CentralSync(cfg, self.ledger) if cfg.mqtt.host else None
        self.meter = Meter(ledger=self.ledger, queue=self.queue, probe=self.probe,
                           poller=self.poller, prices=cfg.prices, settings=settings,
                           notify=self._notify)
        self.expiry = HoldExpiry(
            ledger=self.ledger, queue=self.queue, printer=cfg.device.id,
            expiry_s=cfg.printer.hold_expiry_s, busy=self.meter.in_flight,
            clock_offset=lambda: 0.0 if cfg.printer.hold_source == "cups" else (
                self.probe.clock_offset or 0.0))
        name = cfg.device.name or cfg.device.id
        self.watch = PrinterWatch(name, self._printer_changed)
        self.poller.listen(self.watch.update)
        directory, self.balances = self._accounts()
        self.reader_configs = parse_readers(cfg.readers)
        ident = cfg.identity
        self.sessions = SessionApi(
            device=cfg.device.id, directory=directory, balances=self.balances,
            currency=cfg.device.currency, idle_timeout_s=ident.session_timeout_s,
            policy=CodePolicy(ident.code_min_length, ident.code_max_length,
                              ident.code_digits_only),
            limiter=RateLimiter(per_window=ident.max_attempts_per_minute,
                                free_failures=ident.free_failures,
                                backoff_max_s=ident.backoff_max_s),
            notify=self.api.notify,
            chains={c.name: chain(c) for c in self.reader_configs},
            card_pin=ident.card_pin,
            online=lambda: self.central.online if self.central else True)
        self.jobs = JobsApi(printer=cfg.device.id, queue=self.queue, meter=self.meter,
                            prices=cfg.prices, balances=self.balances,
                            currency=cfg.device.currency)
        evidence: CopyEvidence = CounterEvidence(
            config=cfg.copier, printer=cfg.device.id, ledger=self.ledger, probe=self.probe,
            poller=self.poller) if cfg.copier.tracking == "counters" else BoardEvidence(
            config=cfg.copier, printer=cfg.device.id, ledger=self.ledger, probe=self.probe)
        self.copies = CopySessionLife(
            evidence=evidence, config=cfg.copier, printer=cfg.device.id, ledger=self.ledger,
            probe=self.probe, balances=self.balances, currency=cfg.device.currency,
            notify=self._notify, touch=self.sessions.touch_now)
        self.sessions.on_ended = lambda user: self.copies.end_soon("logout")
        self._tasks: list[asyncio.Task[None]] = []

    def _accounts(self) -> tuple[AccountDirectory, Balances]:
        """Central when [mqtt] is set; otherwise the standalone accounts file."""
        if self.central is not None:
            return self.central.directory, self.central.directory
        accounts = LocalAccounts(Path(self.config.accounts.file))
        return accounts, LedgerBalances(accounts.credit, self.ledger)

    def _notify(self, note: m.Notification[T], params: T) -> None:
        """Panel notifications; a print job's result lets a copy settle wait on it."""
        if note is m.JOB_RESULT:
            self.copies.job_settled()
        self.api.notify(note, params)

    def _printer_changed(self, view: PrinterView) -> None:
        """The panel hears of it; so does the retained `printer` topic."""
        status = self._printer_status(view)
        if self.central is not None:
            self.central.publish_printer(status)
        self._notify(m.PRINTER, status)

    async def start(self) -> None:
        if self.central is not None:  # money written wakes the outbox, from any thread
            loop, kick = asyncio.get_running_loop(), self.central.kick

            def wake_outbox() -> None:
                loop.call_soon_threadsafe(kick)

            self.ledger.on_money = wake_outbox
        self._register()
        await self.api.start()
        self._tasks = [asyncio.create_task(self.meter.run(), name="meter"),
                       asyncio.create_task(self.poller.run(), name="printer-poller"),
                       asyncio.create_task(self.expiry.run(), name="hold-expiry"),
                       asyncio.create_task(self.copies.run(), name="copy-board")]
        if self.central is not None:
            self._tasks += self.central.tasks()
        if self.reader_configs:
            readers = [build(c) for c in self.reader_configs]
            self._tasks.append(asyncio.create_task(
                run_readers(readers, self.sessions.card_swiped), name="card-readers"))
        for task in self._tasks:
            task.add_done_callback(_crash_loudly)
        log.info("agent %s ready on %s", self.config.device.id, self.config.api.socket)

    async def close(self) -> None:
        await self.copies.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.api.close()
        self.sessions.close()
        if self.documents is not None:
            await self.documents.close()
        for client in (self.device_ipp, self.queue_ipp):
            if client is not None:
                await client.close()
        if self.snmp is not None:
            self.snmp.close()
        self.ledger.close()

    def _register(self) -> None:
        api, s = self.api, self.sessions
        api.register(m.SESSION_LOGIN, s.login)
        api.register(m.SESSION_LOGOUT, s.logout)
        api.register(m.SESSION_STATUS, s.status)
        api.register(m.SESSION_TOUCH, s.touch)
        api.register(m.JOBS_LIST, self._jobs_list)
        api.register(m.JOBS_RELEASE, self._jobs_release)
        api.register(m.JOBS_DELETE, self._jobs_delete)
        api.register(m.JOBS_CANCEL, self._jobs_cancel)
        api.register(m.JOBS_STATUS, self._jobs_status)
        api.register(m.JOBS_EXPIRED, self._jobs_expired)
        api.register(m.ACCOUNT_SUMMARY, self._account)
        api.register(m.PRINTER_STATUS, self._printer)
        copies = CopyApi(self.copies, self.sessions.user)
        api.register(m.COPY_START, copies.start)
        api.register(m.COPY_STOP, copies.stop)
        api.register(m.COPY_STATUS, copies.status)

    async def _jobs_list(self, params: NoParams) -> list[HeldJob]:
        return await self.jobs.listing(self.sessions.user())

    async def _jobs_release(self, params: ReleaseParams) -> list[Release]:
        return await self.jobs.release(self.sessions.user(), None if params.all else params.ids)

    async def _jobs_delete(self, params: DeleteParams) -> Deleted:
        return Deleted(deleted=await self.jobs.delete(self.sessions.user(), params.ids))

    async def _jobs_cancel(self, params: JobKeyParams) -> Ok:
        if self._status(params.job_key).user != self.sessions.user():
            raise ApiError("not-found", "That job is not yours")
        self.meter.request_cancel(params.job_key)
        return Ok()

    async def _jobs_expired(self, params: NoParams) -> list[Expired]:
        """The user's held jobs deleted in the last day for waiting too long."""
        since = datetime.now(UTC) - timedelta(days=1)
        return [Expired(id=row.queue_job_id, name=row.name, expired_at=row.settled_at,
                        reason_text=reason_text(EXPIRED),
                        waited_s=self.config.printer.hold_expiry_s)
                for row in self.ledger.expired(self.sessions.user(), since)]

    async def _jobs_status(self, params: JobKeyParams) -> JobStatus:
        return self._status(params.job_key)

    def _status(self, job_key: str) -> JobStatus:
        try:
            return self.meter.status(job_key)
        except JobNotFound as exc:
            raise ApiError("not-found", f"No job {job_key}") from exc

    async def _account(self, params: NoParams) -> Account:
        user = self.sessions.user()
        credit = await self.balances.credit(user)
        return Account(user=user, balance=credit.balance,
                       balance_text=format_money(credit.balance, self.config.device.currency),
                       transactions=await self.balances.transactions(user))

    async def _printer(self, params: NoParams) -> PrinterStatus:
        return self._printer_status(self.watch.view)

    def _printer_status(self, view: PrinterView) -> PrinterStatus:
        return PrinterStatus(**msgspec.structs.asdict(view), online=self.sessions.online(),
                             copier=self.copies.available,
                             copy_enforced=self.copies.enforced)


def _crash_loudly(task: asyncio.Task[None]) -> None:
    """A background task must never die quietly: log it and stop the daemon."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.critical("%s stopped: %r; exiting so the supervisor restarts the agent",
                     task.get_name(), exc, exc_info=exc)
        asyncio.get_running_loop().stop()


async def run(config: AgentConfig) -> None:
    keep_large_allocations_out_of_the_heap()
    agent = Agent(config)
    await agent.start()
    print(f"READY {config.api.socket}", flush=True)
    systemd = Notifier()
    systemd.ready(f"serving on {config.api.socket}")
    watchdog = asyncio.create_task(systemd.watchdog(), name="systemd-watchdog")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        systemd.stopping()
        watchdog.cancel()
        await agent.close()
