"""The device's life count from its markers: summed when it has several in one unit."""

from __future__ import annotations

from agent.metering.probe import device_life_count
from drivers.snmp.reader import MarkerCount, PrinterSnapshot


def snap(*markers: tuple[int | None, str | None]) -> PrinterSnapshot:
    counts = tuple(MarkerCount(1, i, life, unit) for i, (life, unit) in enumerate(markers, 1))
    return PrinterSnapshot(reachable=True, life_count=markers[0][0] if markers else None,
                           markers=counts)


def test_one_marker_is_the_count() -> None:
    assert device_life_count(snap((1200, "impressions"))) == 1200


def test_a_colour_marker_beside_a_black_one_adds_its_pages() -> None:
    assert device_life_count(snap((1200, "impressions"), (300, "impressions"))) == 1500


def test_markers_in_different_units_are_not_added() -> None:
    assert device_life_count(snap((1200, "impressions"), (40, "sheets"))) == 1200


def test_a_marker_that_did_not_answer_makes_the_total_unknown() -> None:
    """Marker 1 alone would charge a colour page as 0: better unknown than wrong."""
    assert device_life_count(snap((1200, "impressions"), (None, "impressions"))) is None


def test_no_markers_walked_falls_back_to_the_profile_oid() -> None:
    assert device_life_count(PrinterSnapshot(reachable=True, life_count=77)) == 77
