"""KeyAssembler and RecordDecoder: key events → card strings."""

from __future__ import annotations

import logging

import evdev
import pytest
from evdev import ecodes

from drivers.readers import keymap
from drivers.readers.evdev_reader import RECORD, KeyAssembler, RecordDecoder, WedgeSettings
from simulator.readers import input_records


def _events(data: bytes) -> list[evdev.InputEvent]:
    return RecordDecoder().feed(data)


def _run(assembler: KeyAssembler, data: bytes) -> list[str]:
    return [c for e in _events(data) if (c := assembler.feed(e)) is not None]


def test_record_is_24_bytes_like_struct_input_event() -> None:
    assert RECORD.size == 24


def test_swipe_with_shifted_letters_and_symbols_decodes() -> None:
    cards = _run(KeyAssembler(), input_records("Ab1-_+:?", start=1000.0))
    assert cards == ["Ab1-_+:?"]


def test_keypad_digits_and_keypad_enter() -> None:
    t = 50.0
    events = []
    for code in (ecodes.KEY_KP1, ecodes.KEY_KP0, ecodes.KEY_KPENTER):
        events += [evdev.InputEvent(int(t), 0, ecodes.EV_KEY, code, 1),
                   evdev.InputEvent(int(t), 0, ecodes.EV_KEY, code, 0)]
    a = KeyAssembler()
    assert [c for e in events if (c := a.feed(e))] == ["10"]


def test_terminator_is_configurable() -> None:
    tab_only = WedgeSettings(terminators=frozenset({keymap.key_code("KEY_TAB")}))
    data = input_records("123", start=10.0)  # ends with ENTER, not TAB
    a = KeyAssembler(tab_only)
    # ENTER is not a terminator and the US layout cannot type it: the swipe never completes
    assert _run(a, data) == []
    tab = [evdev.InputEvent(10, 50_000, ecodes.EV_KEY, ecodes.KEY_TAB, 1)]
    b = KeyAssembler(tab_only)
    assert _run(b, input_records("12", start=10.0)[: -24 * 6]) == []
    assert [c for e in tab if (c := b.feed(e))] == ["12"]


def test_pause_between_keys_discards_partial(caplog: pytest.LogCaptureFixture) -> None:
    a = KeyAssembler(WedgeSettings(gap_s=0.3))
    first = input_records("999", start=100.0)[: -24 * 6]  # no Enter: a partial swipe
    assert _run(a, first) == []
    with caplog.at_level(logging.INFO, "pagetally.readers.evdev"):
        cards = _run(a, input_records("4242", start=101.0))
    assert cards == ["4242"]
    assert "discarded a partial swipe of 3 characters" in caplog.text


def test_slow_typing_within_gap_is_kept() -> None:
    assert _run(KeyAssembler(WedgeSettings(gap_s=0.3)),
                input_records("777", start=5.0, key_gap_s=0.25)) == ["777"]


def test_duplicate_within_window_suppressed_then_allowed_after() -> None:
    a = KeyAssembler(WedgeSettings(duplicate_s=2.0))
    assert _run(a, input_records("5555", start=10.0)) == ["5555"]
    assert _run(a, input_records("5555", start=11.0)) == []
    assert _run(a, input_records("6666", start=11.5)) == ["6666"]
    assert _run(a, input_records("5555", start=11.6)) == ["5555"]  # another card in between


def test_overlong_swipe_is_discarded(caplog: pytest.LogCaptureFixture) -> None:
    a = KeyAssembler(WedgeSettings(max_length=8))
    with caplog.at_level(logging.WARNING):
        assert _run(a, input_records("123456789", start=1.0)) == []
    assert "longer than 8 characters" in caplog.text
    assert _run(a, input_records("12345678", start=2.0)) == ["12345678"]


def test_unknown_key_poisons_the_swipe(caplog: pytest.LogCaptureFixture) -> None:
    a = KeyAssembler()
    events = _events(input_records("12", start=1.0))
    events.insert(3, evdev.InputEvent(1, 100, ecodes.EV_KEY, ecodes.KEY_F5, 1))
    with caplog.at_level(logging.WARNING):
        assert [c for e in events if (c := a.feed(e))] == []
    assert f"key code {ecodes.KEY_F5}" in caplog.text


def test_lone_enter_and_release_events_give_nothing() -> None:
    a = KeyAssembler()
    enter = [evdev.InputEvent(1, 0, ecodes.EV_KEY, ecodes.KEY_ENTER, v) for v in (1, 0)]
    assert [a.feed(e) for e in enter] == [None, None]


def test_decoder_keeps_partial_records_across_chunks() -> None:
    data = input_records("AB12", start=3.0)
    whole = [(e.type, e.code, e.value) for e in RecordDecoder().feed(data)]
    d = RecordDecoder()
    pieces = [data[i:i + 7] for i in range(0, len(data), 7)]
    split = [(e.type, e.code, e.value) for p in pieces for e in d.feed(p)]
    assert split == whole and len(whole) == len(data) // 24


def test_key_code_names_resolve_and_reject() -> None:
    assert keymap.key_code("key_enter") == ecodes.KEY_ENTER
    with pytest.raises(ValueError, match="not a key name"):
        keymap.key_code("ENTER_PLEASE")
