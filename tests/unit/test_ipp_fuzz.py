"""Hostile bytes: the codec raises only IppDecodeError, and the printer always answers in IPP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.ipp import build as b
from drivers.ipp.codec import (
    IppAttribute,
    IppDecodeError,
    IppGroup,
    IppMessage,
    LangString,
    Resolution,
    decode,
    encode,
)
from drivers.ipp.tags import GroupTag, Operation, Status
from simulator.config import SimConfig
from simulator.engine import Engine
from simulator.ipp_server import IppEndpoint

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _valid_request() -> bytes:
    op = IppGroup(GroupTag.OPERATION).add(
        b.charset("attributes-charset", "utf-8"),
        b.language("attributes-natural-language", "en"),
        b.uri("printer-uri", "ipp://127.0.0.1/ipp/print"),
        b.name("requesting-user-name", "alice"),
        b.mime_type("document-format", "text/plain"),
    )
    job = IppGroup(GroupTag.JOB).add(
        b.integer("copies", 2), b.keyword("sides", "two-sided-long-edge"),
        b.collection("media-col", [b.collection("media-size", [b.integer("x-dimension", 1),
                                                               b.integer("y-dimension", 2)])]),
        b.date_time("t", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        b.text_lang("note", LangString("hi", "en")),
    )
    return encode(IppMessage((2, 0), Operation.PRINT_JOB, 1, [op, job], b"line\n" * 3))


VALID = _valid_request()


def _decode_or_decode_error(raw: bytes) -> IppMessage | None:
    try:
        return decode(raw)
    except IppDecodeError as exc:
        assert str(exc)  # always a message in words
        return None


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_only_raise_decode_error(raw: bytes) -> None:
    _decode_or_decode_error(raw)


@FUZZ
@given(st.data())
def test_mutated_valid_request_only_raises_decode_error(data: st.DataObject) -> None:
    raw = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[pos:]
        elif kind == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif raw:
            del raw[pos:pos + data.draw(st.integers(1, 8))]
    _decode_or_decode_error(bytes(raw))


_names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                 max_size=12)
_texts = st.text(max_size=20)
_zones = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_dates = st.builds(lambda d, z: d.replace(microsecond=d.microsecond // 100_000 * 100_000,
                                          tzinfo=z),
                   st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1)),
                   _zones)
_ints = st.integers(-(2**31), 2**31 - 1)


def _leaf(attr_name: str) -> st.SearchStrategy[IppAttribute]:
    return st.one_of(
        st.lists(_ints, min_size=1, max_size=3).map(lambda v: b.integer(attr_name, *v)),
        st.lists(st.booleans(), min_size=1, max_size=2).map(lambda v: b.boolean(attr_name, *v)),
        st.lists(_texts, min_size=1, max_size=3).map(lambda v: b.text(attr_name, *v)),
        st.lists(_texts, min_size=1, max_size=2).map(lambda v: b.keyword(attr_name, *v)),
        st.binary(max_size=16).map(lambda v: b.octets(attr_name, v)),
        _dates.map(lambda v: b.date_time(attr_name, v)),
        st.tuples(_ints, _ints).map(lambda v: b.int_range(attr_name, v)),
        st.builds(Resolution, _ints, _ints, st.sampled_from([3, 4])).map(
            lambda v: b.resolution(attr_name, v)),
        st.builds(LangString, _texts, st.sampled_from(["en", "fr-CA"])).map(
            lambda v: b.text_lang(attr_name, v)),
        st.just(b.no_value(attr_name)),
    )


def _attr(attr_name: str, depth: int = 0) -> st.SearchStrategy[IppAttribute]:
    if depth >= 3:
        return _leaf(attr_name)
    members = st.dictionaries(_names, st.none(), min_size=1, max_size=3).flatmap(
        lambda names: st.tuples(*(_attr(n, depth + 1) for n in names)))
    return st.one_of(_leaf(attr_name),
                     members.map(lambda ms: b.collection(attr_name, list(ms))))


_groups = st.lists(
    st.tuples(st.sampled_from([1, 2, 4, 5]),
              st.dictionaries(_names, st.none(), max_size=4)).flatmap(
        lambda gt: st.tuples(st.just(gt[0]), *(_attr(n) for n in gt[1]))),
    max_size=4,
)


@FUZZ
@given(_groups, st.integers(0, 0xFFFF), st.integers(1, 2**31 - 1), st.binary(max_size=32))
def test_random_messages_round_trip(groups: list[tuple[int, ...]], code: int, rid: int,
                                    data: bytes) -> None:
    msg = IppMessage((2, 0), code, rid,
                     [IppGroup(g[0]).add(*g[1:]) for g in groups], data)  # type: ignore[arg-type]
    assert decode(encode(msg)) == msg


ENDPOINT = IppEndpoint(Engine(SimConfig()))


@FUZZ
@given(st.one_of(st.binary(max_size=256),
                 st.integers(0, len(VALID)).map(lambda n: VALID[:n])))
def test_printer_answers_every_body_in_ipp(raw: bytes) -> None:
    answer = ENDPOINT.answer(raw, "ipp://127.0.0.1/ipp/print")
    back = decode(encode(answer))
    assert back.operation.value("attributes-charset") == "utf-8"
    if back.code != Status.OK:
        assert isinstance(back.operation.value("status-message"), str)
