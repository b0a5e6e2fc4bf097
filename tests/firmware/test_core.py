"""The firmware core on simulated pins and clock: relay rules, lease, limit, pulses, watchdog."""

from __future__ import annotations

from firmware_bridge import protocol as p
from firmware_bridge.messages import (
    Ack,
    ChannelConfig,
    Identity,
    Nak,
    OffReason,
    PageKind,
    ResetCause,
)
from tests.firmware.boardsim import Rig

MONO = ChannelConfig(0, 0, PageKind.MONO, pulses_per_page=1, min_pulse_ms=40)
COLOUR_A3 = ChannelConfig(1, 1, PageKind.COLOUR_LARGE, pulses_per_page=2, min_pulse_ms=40,
                          weight=3, active_low=True)


def ready(limit: int = 10, lease_ms: int = 5_000) -> Rig:
    rig = Rig()
    assert isinstance(rig.configure(MONO), Ack)
    assert isinstance(rig.configure(COLOUR_A3), Ack)
    rig.dev.set_pin(1, 1)  # an active-low input idles high
    ack = rig.enable(limit, lease_ms)
    assert isinstance(ack, Ack) and ack.status.relay
    return rig


def test_relay_off_at_boot_and_identity() -> None:
    rig = Rig()
    assert rig.dev.relay_on is False and rig.dev.relay_log == [(1_000, False)]
    ident = rig.send(p.IDENTIFY, p.pack_identify())
    assert isinstance(ident, Identity)
    assert ident.protocol == p.PROTOCOL_VERSION and ident.reset_cause == ResetCause.POWER_ON
    st = rig.send(p.READ)
    assert isinstance(st, Ack) and not st.status.relay
    assert st.status.off_reason == OffReason.BOOT and st.status.boot_id == ident.boot_id


def test_enable_needs_a_channel_and_sane_values() -> None:
    rig = Rig()
    assert rig.enable(10, 5_000) == Nak(p.ENABLE, p.NAK_NOT_CONFIGURED)
    rig.configure(MONO)
    assert rig.enable(0, 5_000) == Nak(p.ENABLE, p.NAK_VALUE)
    assert rig.enable(10, 50) == Nak(p.ENABLE, p.NAK_VALUE)
    assert rig.configure(ChannelConfig(1, 0)) == Nak(p.CONFIGURE, p.NAK_VALUE)  # same pin
    assert rig.dev.relay_on is False


def test_lease_lapse_turns_relay_off_and_renew_cannot_revive() -> None:
    rig = ready(lease_ms=3_000)
    rig.advance(2_000)
    assert isinstance(rig.send(p.RENEW, p.pack_renew(3_000)), Ack)
    rig.advance(2_999)
    assert rig.dev.relay_on
    rig.advance(1)
    assert not rig.dev.relay_on
    assert rig.dev.relay_log[-1] == (1_000 + 2_000 + 3_000, False)
    assert rig.reports[-1].off_reason == OffReason.LEASE
    assert rig.send(p.RENEW, p.pack_renew(3_000)) == Nak(p.RENEW, p.NAK_NOT_ENABLED)
    assert not rig.dev.relay_on


def test_pulses_count_pages_with_weights_and_the_limit_stops_copying() -> None:
    rig = ready(limit=5)
    rig.pulse(0, 60, 60)
    rig.pulse(0, 60, 60)
    assert rig.dev.relay_on and rig.reports[-1].used == 2
    rig.pulse(1, 60, 60, active_low=True)  # first of two pulses: no page yet
    assert rig.reports[-1].channels[1].pulses == 1 and rig.reports[-1].channels[1].pages == 0
    rig.pulse(1, 60, 60, active_low=True)  # one A3 colour page, weight 3: 5 of 5
    last = rig.reports[-1]
    assert not rig.dev.relay_on and last.off_reason == OffReason.LIMIT and last.used == 5
    rig.pulse(0, 60, 60)  # a page the copier finished after the relay fell is still counted
    assert rig.reports[-1].channels[0].pages == 3 and rig.reports[-1].used == 6


def test_short_glitches_do_not_count() -> None:
    rig = ready()
    for width in (1, 5, 39):
        rig.pulse(0, width, 60)
    rig.pulse(0, 40, 60)
    rig.advance(1_000)
    assert rig.reports[-1].channels[0].pulses == 1


def test_retransmitted_enable_is_not_executed_twice() -> None:
    rig = ready(limit=3)
    rig.pulse(0, 60, 60)
    frame = p.encode(rig.seq, p.ENABLE, p.pack_enable(3, 5_000))  # same seq, same bytes
    rig.dev.receive(frame)
    answer = next(f for f in rig.frames() if f[1] == p.ACK)
    assert Ack.from_bytes(answer[2]).status.session == 1
    rig.advance(10)
    assert rig.reports[-1].used == 1 and rig.reports[-1].session == 1


def test_configure_refused_while_enabled_and_disable() -> None:
    rig = ready()
    assert rig.configure(MONO) == Nak(p.CONFIGURE, p.NAK_BUSY)
    ack = rig.send(p.DISABLE)
    assert isinstance(ack, Ack) and ack.status.off_reason == OffReason.HOST
    assert not rig.dev.relay_on


def test_reports_at_least_every_second_with_cumulative_counters() -> None:
    rig = ready(lease_ms=60_000)
    rig.pulse(0, 60, 60)
    n = len(rig.reports)
    rig.advance(3_000)
    assert len(rig.reports) - n == 3
    assert all(r.channels[0].pulses == 1 for r in rig.reports[-3:])


def test_hung_loop_is_reset_by_the_watchdog_with_relay_off() -> None:
    rig = ready(lease_ms=60_000)
    boot = rig.reports[-1].boot_id if rig.reports else None
    rig.dev.hung = True
    rig.advance(1_999)
    assert rig.dev.relay_on  # the relay holds until the watchdog bites
    rig.advance(1)
    assert not rig.dev.relay_on and rig.dev.boots == 2
    ident = rig.send(p.IDENTIFY, p.pack_identify())
    assert isinstance(ident, Identity) and ident.reset_cause == ResetCause.WATCHDOG
    assert ident.boot_id != boot
    st = rig.send(p.READ)
    assert isinstance(st, Ack) and st.status.channels[0].pulses == 0
    assert st.status.off_reason == OffReason.BOOT


def test_counters_wrap_at_32_bits() -> None:
    rig = ready(limit=2**32 - 1, lease_ms=600_000)
    ch = rig.dev.board.channels[0]
    ch.pulses = ch.pages = 2**32 - 1
    rig.pulse(0, 60, 60)
    assert rig.reports[-1].channels[0].pulses == 0 and rig.reports[-1].channels[0].pages == 0
