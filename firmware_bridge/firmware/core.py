"""The copier board's logic: relay, lease, page limit, pulse counting, protocol answers.

Runs under MicroPython on the RP2040 (`main.py` with `hal_rp2.py`) and under
CPython in tests and the simulator (`hal_sim.py`), so: no dataclasses, typing
or f-strings here. All I/O goes through the `hal` object, which provides
`ticks_ms()`, `ticks_add(t, ms)`, `ticks_diff(a, b)`, `relay(on)`, `uart_write(data)`,
`random_u32()` and `reset_cause()`. Input edges come in through `on_edge`.
"""

try:
    from firmware_bridge import protocol as p
except ImportError:  # on the board, protocol.py sits beside this file
    import protocol as p  # type: ignore[no-redef]  # the same module, by its board name

REPORT_EVERY_MS = 1000


class Channel:
    """One counting channel: its configuration and cumulative counters since boot."""

    def __init__(self):
        self.pin = -1
        self.kind = 0
        self.active_low = False
        self.pulses_per_page = 0
        self.min_pulse_ms = 30
        self.weight = 1
        self.pulses = 0
        self.pages = 0
        self.partial = 0
        self.active_since = None


class Board:
    """The firmware core. The relay is switched off before anything else happens."""

    def __init__(self, hal):
        hal.relay(False)
        self.hal = hal
        self.relay_on = False
        self.off_reason = p.OFF_BOOT
        self.boot_id = hal.random_u32() & p.U32
        self.reset_cause = hal.reset_cause()
        self.boot_ms = hal.ticks_ms()
        self.session = 0
        self.limit = 0
        self.used = 0
        self.deadline = 0
        self.channels = [Channel() for _ in range(p.CHANNELS)]
        self.decoder = p.Decoder()
        self.report_seq = 0
        self.last_command = None
        self.last_answer = None
        self.dirty = False
        self.last_report = self.boot_ms

    # ----- inputs ------------------------------------------------------------------

    def on_bytes(self, data):
        for seq, kind, payload in self.decoder.feed(data):
            self._command(seq, kind, payload)

    def on_edge(self, pin, level, now):
        """An input changed level at `now` (ms ticks). Safe to call from a soft IRQ."""
        for ch in self.channels:
            if ch.pin != pin or not ch.pulses_per_page:
                continue
            active = bool(level) != ch.active_low
            if active:
                ch.active_since = now
            elif ch.active_since is not None:
                width = self.hal.ticks_diff(now, ch.active_since)
                ch.active_since = None
                if width >= ch.min_pulse_ms:
                    self._count(ch)

    def tick(self, now):
        """Called by the main loop: lease expiry and reports."""
        if self.relay_on and self.hal.ticks_diff(now, self.deadline) >= 0:
            self._relay(False, p.OFF_LEASE)
        if self.dirty or self.hal.ticks_diff(now, self.last_report) >= REPORT_EVERY_MS:
            self._report(now)

    def next_wakeup_ms(self, now):
        """How long the main loop may sleep before `tick` has work (for event-driven hosts)."""
        wait = REPORT_EVERY_MS - self.hal.ticks_diff(now, self.last_report)
        if self.relay_on:
            wait = min(wait, self.hal.ticks_diff(self.deadline, now))
        if self.dirty:
            wait = 0
        return max(wait, 0)

    # ----- state -------------------------------------------------------------------

    def _count(self, ch):
        ch.pulses = (ch.pulses + 1) & p.U32
        ch.partial += 1
        if ch.partial >= ch.pulses_per_page:
            ch.partial = 0
            ch.pages = (ch.pages + 1) & p.U32
            self.used = min(self.used + ch.weight, p.U32)
            if self.relay_on and self.used >= self.limit:
                self._relay(False, p.OFF_LIMIT)
        self.dirty = True

    def _relay(self, on, reason):
        self.hal.relay(on)
        self.relay_on = on
        self.off_reason = p.OFF_NONE if on else reason
        self.dirty = True

    def status(self, now):
        return p.pack_status(self.boot_id, self.hal.ticks_diff(now, self.boot_ms),
                             1 if self.relay_on else 0, self.off_reason, self.session,
                             self.limit, self.used,
                             [(ch.pulses, ch.pages) for ch in self.channels])

    def _report(self, now):
        self.dirty = False
        self.last_report = now
        self.report_seq = (self.report_seq + 1) & 0xFF
        self.hal.uart_write(p.encode(self.report_seq, p.REPORT, self.status(now)))

    # ----- commands ----------------------------------------------------------------

    def _command(self, seq, kind, payload):
        key = (seq, kind, bytes(payload))
        if kind != p.IDENTIFY and key == self.last_command:
            self.hal.uart_write(self.last_answer)  # a retransmission: answer, do not redo
            return
        now = self.hal.ticks_ms()
        if kind == p.IDENTIFY:
            answer = p.encode(seq, p.IDENTITY,
                              p.pack_identity(self.boot_id, self.reset_cause))
            key = None
        else:
            reason = self._execute(kind, payload, now)
            if reason:
                answer = p.encode(seq, p.NAK, p.pack_nak(kind, reason))
            else:
                answer = p.encode(seq, p.ACK, p.pack_ack(kind, self.status(now)))
        self.last_command = key
        self.last_answer = answer
        self.hal.uart_write(answer)

    def _execute(self, kind, payload, now):
        """Run one command; returns 0 or a NAK reason."""
        if kind == p.CONFIGURE:
            return self._configure(payload)
        if kind == p.ENABLE:
            limit, lease = p.unpack_enable(payload)
            if limit < 1 or not p.LEASE_MIN_MS <= lease <= p.LEASE_MAX_MS:
                return p.NAK_VALUE
            if not any(ch.pulses_per_page for ch in self.channels):
                return p.NAK_NOT_CONFIGURED
            self.session = (self.session + 1) & 0xFFFF
            self.limit = limit
            self.used = 0
            self.deadline = self.hal.ticks_add(now, lease)
            self._relay(True, p.OFF_NONE)
            return 0
        if kind == p.RENEW:
            lease = p.unpack_renew(payload)
            if not p.LEASE_MIN_MS <= lease <= p.LEASE_MAX_MS:
                return p.NAK_VALUE
            if not self.relay_on:
                return p.NAK_NOT_ENABLED
            self.deadline = self.hal.ticks_add(now, lease)
            return 0
        if kind == p.DISABLE:
            if self.relay_on:
                self._relay(False, p.OFF_HOST)
            return 0
        if kind == p.READ:
            return 0
        return p.NAK_UNKNOWN

    def _configure(self, payload):
        channel, pin, kind, flags, ppp, min_ms, weight = p.unpack_configure(payload)
        if self.relay_on:
            return p.NAK_BUSY
        if channel >= p.CHANNELS or pin >= p.CHANNELS or kind > 3 or weight < 1 \
                or not p.MIN_PULSE_MIN_MS <= min_ms <= p.MIN_PULSE_MAX_MS:
            return p.NAK_VALUE
        for i, other in enumerate(self.channels):
            if i != channel and other.pulses_per_page and other.pin == pin and ppp:
                return p.NAK_VALUE
        ch = self.channels[channel]
        ch.pin = pin
        ch.kind = kind
        ch.active_low = bool(flags & 1)
        ch.pulses_per_page = ppp
        ch.min_pulse_ms = min_ms
        ch.weight = weight
        ch.partial = 0
        ch.active_since = None
        return 0
