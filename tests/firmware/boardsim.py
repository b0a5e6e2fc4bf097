"""A simulated board on a simulated clock, driven by frames, for firmware tests and bench."""

from __future__ import annotations

from firmware_bridge import protocol as p
from firmware_bridge.firmware.hal_sim import SimClock, SimDevice
from firmware_bridge.messages import Ack, ChannelConfig, Identity, Nak, Status


class Rig:
    def __init__(self, seed: int = 1) -> None:
        self.clock = SimClock(1_000)
        self.out = bytearray()
        self.dev = SimDevice(self.clock, self.out.extend, seed=seed)
        self.decoder = p.Decoder()
        self.seq = 0
        self.reports: list[Status] = []

    def frames(self) -> list[tuple[int, int, bytes]]:
        got = self.decoder.feed(bytes(self.out))
        self.out.clear()
        for _, kind, payload in got:
            if kind == p.REPORT:
                self.reports.append(Status.from_bytes(payload))
        return got

    def send(self, kind: int, payload: bytes = b"") -> Ack | Nak | Identity:
        self.seq = (self.seq + 1) & 0xFF
        self.dev.receive(p.encode(self.seq, kind, payload))
        answers = [f for f in self.frames() if f[1] != p.REPORT]
        assert len(answers) == 1 and answers[0][0] == self.seq, answers
        _, k, payload = answers[0]
        return {p.ACK: Ack, p.NAK: Nak, p.IDENTITY: Identity}[k].from_bytes(payload)

    def configure(self, cfg: ChannelConfig) -> Ack | Nak | Identity:
        return self.send(p.CONFIGURE, cfg.to_bytes())

    def enable(self, limit: int, lease_ms: int) -> Ack | Nak | Identity:
        return self.send(p.ENABLE, p.pack_enable(limit, lease_ms))

    def advance(self, ms: int) -> None:
        """Run the main loop event by event up to now + ms."""
        end = self.clock.now + ms
        while True:
            self.dev.step()
            nxt = self.clock.now + max(self.dev.next_wakeup_ms(), 1)
            if nxt > end:
                break
            self.clock.now = nxt
        self.clock.now = end
        self.dev.step()
        self.frames()

    def pulse(self, pin: int, width_ms: int, gap_ms: int, active_low: bool = False) -> None:
        on, off = (0, 1) if active_low else (1, 0)
        self.dev.set_pin(pin, on)
        self.advance(width_ms)
        self.dev.set_pin(pin, off)
        self.advance(gap_ms)
