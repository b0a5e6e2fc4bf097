"""Real printers' answers, mutated: the decoder raises only IppDecodeError, the models only
IppProtocolError, and whatever decodes lists its problems in words."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.ipp.codec import IppDecodeError, IppMessage, decode
from drivers.ipp.errors import IppProtocolError
from drivers.ipp.models import job_from_group, printer_from_group
from drivers.ipp.tags import GroupTag
from tests.realprinters.conftest import recordings

SOURCES = [p.read_bytes() for p in recordings("ipp", "*.bin", "*.res", "*.response")
           if p.stat().st_size < 20_000] or [b""]
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A recording with a few bytes flipped, dropped, repeated or inserted."""
    raw = bytearray(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 4))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        kind = draw(st.sampled_from(["flip", "drop", "insert", "dup"]))
        if kind == "flip":
            raw[at] = draw(st.integers(0, 255))
        elif kind == "drop":
            del raw[at:at + draw(st.integers(1, 8))]
        elif kind == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=6))
        else:
            raw[at:at] = raw[at:at + draw(st.integers(1, 16))]
    return bytes(raw)


def _read(msg: IppMessage) -> None:
    for group in msg.groups:
        try:
            if group.tag == GroupTag.JOB:
                job_from_group(group)
            elif group.tag == GroupTag.PRINTER:
                printer_from_group(group)
        except IppProtocolError as exc:
            assert str(exc)


@FUZZ
@given(mutated())
def test_mutated_recordings_fail_only_with_typed_errors(raw: bytes) -> None:
    try:
        msg = decode(raw)
    except IppDecodeError as exc:
        assert str(exc)
        return
    for problem in (*msg.problems, *msg.notes):
        assert problem.attribute and problem.reason and 0 <= problem.offset <= len(raw)
    _read(msg)
