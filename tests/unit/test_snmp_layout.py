"""Finding the printer's hrDeviceIndex and markers from walks, not assuming .1 / .1.1."""

from __future__ import annotations

from drivers.snmp.layout import Layout, find_layout
from drivers.snmp.values import Counter32, ObjectIdentifier, OctetString

TYPE = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 2)
LIFE = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4)
PRINTER = ObjectIdentifier((1, 3, 6, 1, 2, 1, 25, 3, 1, 5))
SCANNER = ObjectIdentifier((1, 3, 6, 1, 2, 1, 25, 3, 1, 1))
DEFAULT = Layout(1, ((1, 1),))


def test_printer_at_device_2_with_two_markers() -> None:
    types = [((*TYPE, 1), SCANNER), ((*TYPE, 2), PRINTER)]
    lives = [((*LIFE, 2, 1), Counter32(10)), ((*LIFE, 2, 2), Counter32(4)),
             ((*LIFE, 1, 1), Counter32(99))]
    layout = find_layout(types, lives, DEFAULT)
    assert (layout.device, layout.markers, layout.note) == (2, ((2, 1), (2, 2)), None)
    assert layout.oid("life_count_oid", (*LIFE, 1, 1), (2, 2)) == (*LIFE, 2, 2)
    status = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1, 1)
    assert layout.oid("printer_status_oid", status) == (*status[:-1], 2)
    vendor = (1, 3, 6, 1, 4, 1, 18334, 1)
    assert layout.oid("life_count_oid", vendor) == vendor  # a vendor OID is used as written


def test_nothing_walked_falls_back_to_the_profile_and_says_so() -> None:
    layout = find_layout([], [], DEFAULT)
    assert (layout.device, layout.markers) == (1, ((1, 1),))
    assert layout.note is not None and "device 1 assumed" in layout.note


def test_a_device_type_sent_as_text_is_not_a_printer() -> None:
    types = [((*TYPE, 1), OctetString(b"1.3.6.1.2.1.25.3.1.5")), ((*TYPE, 3), PRINTER)]
    layout = find_layout(types, [((*LIFE, 3, 1), Counter32(5))], DEFAULT)
    assert (layout.device, layout.markers, layout.note) == (3, ((3, 1),), None)
