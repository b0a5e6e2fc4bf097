"""One load-generator process of bench/fleet.py: its share of the devices on one selector
loop, driven phase by phase over a pipe from the bench's main process.

A phase is either paced (txns and auth requests arrive at random, a Poisson process at the
worker's share of the fleet's rate: the sum of many devices that each print now and then)
or closed-loop (every device keeps `window` txns, or raw messages, in flight and sends the
next as soon as one comes back: the most the fleet can push). Either way the phase ends
with a drain: no new work, until every txn is acked and every request answered.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from bench.fleet_device import LightDevice, Person, SelectorLoop, Tally

TICK_S = 1.0


@dataclass(frozen=True)
class WorkerSpec:
    port: int
    site: str
    devices: tuple[str, ...]
    people: tuple[Person, ...]
    seed: int
    resend_after_s: float


@dataclass(frozen=True)
class Phase:
    name: str
    start_at: float  # time.monotonic(), which is one clock for every process on Linux
    seconds: float  # measured, after the warm-up
    warmup_s: float = 0.0  # closed loop: filling every window first, not counted
    txn_rate: float = 0.0  # paced txns a second at this worker
    auth_rate: float = 0.0  # paced auth requests a second at this worker
    code_share: float = 0.0  # of the auth requests, the share by access code (else card)
    window: int = 0  # closed loop: in flight per device (0: paced)
    raw: bool = False  # closed loop of raw QoS 1 messages to the echo, not txns
    drain_s: float = 60.0


@dataclass
class Final:
    sent: dict[str, tuple[str, int]]  # txn_id -> (user, amount)
    applied: int
    unacked: int


class Fleet:
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.loop = SelectorLoop()
        self.rng = random.Random(spec.seed)
        self.tally = Tally("connect", 0.0, 0.0)
        self.devices = [LightDevice(name, spec.site, spec.port, self.loop, lambda: self.tally,
                                    spec.resend_after_s) for name in spec.devices]
        self.with_code = [p for p in spec.people if p.code]
        self.padding = b"x" * 380  # a raw message about the size of a txn
        self.seq = 0
        self.phase: Phase | None = None
        self.sending = False
        self.next_tick = 0.0

    def connect_all(self, timeout: float) -> None:
        for device in self.devices:
            device.connect()
            self.loop.poll(0)
        deadline = time.monotonic() + timeout
        while not all(d.ready for d in self.devices):
            if time.monotonic() > deadline:
                waiting = [d.name for d in self.devices if not d.ready]
                raise TimeoutError(f"{len(waiting)} devices not subscribed after {timeout} s:"
                                   f" {waiting[:5]}")
            self.loop.poll(0.05)
            self._tick()

    def _tick(self) -> None:
        now = time.monotonic()
        if now >= self.next_tick:
            self.next_tick = now + TICK_S
            for device in self.devices:
                device.tick()

    def _person(self) -> Person:
        return self.rng.choice(self.spec.people)

    def _send(self, device: LightDevice, phase: Phase) -> None:
        if phase.raw:
            self.seq += 1
            device.send_raw(self.seq, self.padding)
        else:
            device.send_txn(self._person(), self.rng)

    def _settled(self, device: LightDevice) -> None:
        phase = self.phase
        if self.sending and phase is not None and phase.window and \
                time.monotonic() < self.tally.end:
            self._send(device, phase)

    def _auth(self, phase: Phase) -> None:
        device = self.rng.choice(self.devices)
        if self.with_code and self.rng.random() < phase.code_share:
            device.ask_auth(self.rng.choice(self.with_code), by_code=True)
        else:
            device.ask_auth(self._person(), by_code=False)

    def _gap(self, rate: float) -> float:
        return self.rng.expovariate(rate) if rate > 0 else float("inf")

    def run(self, phase: Phase) -> Tally:
        self.phase = phase
        measured_from = phase.start_at + phase.warmup_s
        self.tally = tally = Tally(phase.name, measured_from, measured_from + phase.seconds)
        for device in self.devices:
            device.on_settled = self._settled
        while time.monotonic() < phase.start_at:
            self.loop.poll(min(0.05, max(0.0, phase.start_at - time.monotonic())))
        self.sending = True
        for device in self.devices:
            for _ in range(phase.window):
                self._send(device, phase)
        next_txn = phase.start_at + self._gap(phase.txn_rate)
        next_auth = phase.start_at + self._gap(phase.auth_rate)
        while (now := time.monotonic()) < tally.end:
            while next_txn <= now:
                self._send(self.rng.choice(self.devices), phase)
                next_txn += self._gap(phase.txn_rate)
            while next_auth <= now:
                self._auth(phase)
                next_auth += self._gap(phase.auth_rate)
            self._tick()
            self.loop.poll(max(0.0, min(0.05, next_txn - now, next_auth - now)))
        self.sending = False
        self._drain(phase.drain_s)
        return tally

    def _drain(self, seconds: float) -> None:
        """No new work: wait for every ack, echo and answer (resending as devices do)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(
                d.pending or d.raw_out or d.asking for d in self.devices):
            self.loop.poll(0.05)
            self._tick()
        for device in self.devices:
            self.tally.unacked += len(device.pending) + len(device.raw_out)
            self.tally.auth_unanswered += len(device.asking)
            device.raw_out.clear()
            device.asking.clear()

    def final(self) -> Final:
        sent: dict[str, tuple[str, int]] = {}
        for device in self.devices:
            sent.update(device.sent)
        return Final(sent, sum(len(d.applied) for d in self.devices),
                     sum(len(d.pending) for d in self.devices))

    def close(self) -> None:
        for device in self.devices:
            device.client.disconnect()
            self.loop.poll(0)


def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """The worker process: connect, say "ready", then one Tally per Phase until None."""
    fleet = Fleet(spec)
    fleet.connect_all(timeout=120)
    conn.send("ready")
    while (phase := conn.recv()) is not None:
        conn.send(fleet.run(phase))
    conn.send(fleet.final())
    fleet.close()
