"""Our SNMP codec on golden bytes, and its errors on bad input.

The requests below are what net-snmp 5.9's snmpget, snmpgetnext and snmpbulkget sent, and
the answers what the simulator's pysnmp agent returned for the Konica walk in
../shared/fixtures/real-printers (serial refused with genErr), captured through a UDP
proxy; net-snmp printed the values named in each test. tests/integration/
test_snmp_interop.py repeats such captures live.
"""

from __future__ import annotations

import pytest

from drivers.snmp.ber import BerEncodeError, BerError, decode_oid, encode_oid
from drivers.snmp.message import (
    Message,
    Pdu,
    PduType,
    SnmpDecodeError,
    VarBind,
    Version,
    error_name,
    get_bulk_request,
    get_next_request,
    get_request,
)
from drivers.snmp.values import (
    Counter32,
    Counter64,
    EndOfMibView,
    Gauge32,
    Integer,
    IpAddress,
    NoSuchInstance,
    NoSuchObject,
    Null,
    ObjectIdentifier,
    OctetString,
    Opaque,
    TimeTicks,
    Undecodable,
    Value,
    decode_value,
)

LIFE = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1)
ERROR_STATE = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2, 1)
DEVICE_STATUS = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 5, 1)
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SYS_OBJECT_ID = (1, 3, 6, 1, 2, 1, 1, 2, 0)
LIFE_9 = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 9)
SERIAL = (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1)
HR_DEVICE_TYPE = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 2)

# snmpget -v2c -c public LIFE ERROR_STATE DEVICE_STATUS SYS_UPTIME SYS_OBJECT_ID LIFE_9
GET_REQUEST = bytes.fromhex(
    "307d02010104067075626c6963a0700204301da63002010002010030623010060c2b060102012b0a0201"
    "0401010500300f060b2b060102011903050102010500300f060b2b060102011903020105010500300c06"
    "082b060102010103000500300c06082b0601020101020005003010060c2b060102012b0a020104010905"
    "00")
GET_RESPONSE = bytes.fromhex(
    "30819502010104067075626c6963a281870204301da63002010002010030793013060c2b060102012b0a"
    "020104010141030084123011060b2b06010201190305010201040201003010060b2b0601020119030201"
    "0501020103300c06082b060102010103008100301d06082b0601020101020006112b06010401818f1e01"
    "01010201813502043010060c2b060102012b0a02010401098100")
# snmpgetnext -v2c -c public HR_DEVICE_TYPE
GET_NEXT_REQUEST = bytes.fromhex(
    "302b02010104067075626c6963a11e020406e2d3750201000201003010300e060a2b0601020119030201"
    "020500")
GET_NEXT_RESPONSE = bytes.fromhex(
    "303502010104067075626c6963a228020406e2d375020100020100301a3018060b2b0601020119030201"
    "020106092b0601020119030105")
# snmpbulkget -v2c -c public -Cn0 -Cr3 prtMarkerLifeCount hrDeviceType
BULK_REQUEST = bytes.fromhex(
    "303b02010104067075626c6963a52e020472a6850f0201000201033020300e060a2b060102012b0a0201"
    "040500300e060a2b0601020119030201020500")
BULK_RESPONSE = bytes.fromhex(
    "3081a602010104067075626c6963a28198020472a6850f0201000201003081893013060c2b060102012b"
    "0a020104010141030084123018060b2b0601020119030201020106092b06010201190301053011060c2b"
    "060102012b0a020105010141012e3018060b2b0601020119030201020206092b06010201190301013011"
    "060c2b060102012b0b01010501010201033018060b2b0601020119030201020306092b06010201190301"
    "04")
# snmpget -v1 -c public LIFE
V1_REQUEST = bytes.fromhex(
    "302d02010004067075626c6963a02002040ef488d802010002010030123010060c2b060102012b0a0201"
    "0401010500")
V1_RESPONSE = bytes.fromhex(
    "303002010004067075626c6963a22302040ef488d802010002010030153013060c2b060102012b0a0201"
    "0401014103008412")
# snmpget -v2c -c public SERIAL, which the agent refuses: "(genError) ... Failed object"
GEN_ERR_RESPONSE = bytes.fromhex(
    "302c02010104067075626c6963a21f020415ce3fc70201050201013011300f060b2b060102012b050101"
    "11010500")


def v2c(pdu: Pdu) -> Message:
    return Message(Version.V2C, b"public", pdu)


def test_requests_encode_as_net_snmp_sends_them() -> None:
    oids = [LIFE, ERROR_STATE, DEVICE_STATUS, SYS_UPTIME, SYS_OBJECT_ID, LIFE_9]
    assert v2c(get_request(0x301DA630, oids)).to_bytes() == GET_REQUEST
    assert v2c(get_next_request(0x06E2D375, [HR_DEVICE_TYPE])).to_bytes() == GET_NEXT_REQUEST
    bulk = get_bulk_request(0x72A6850F, [LIFE[:-2], HR_DEVICE_TYPE], max_repetitions=3)
    assert v2c(bulk).to_bytes() == BULK_REQUEST
    v1 = Message(Version.V1, b"public", get_request(0x0EF488D8, [LIFE]))
    assert v1.to_bytes() == V1_REQUEST


def test_requests_decode_to_what_net_snmp_asked() -> None:
    bulk = Message.from_bytes(BULK_REQUEST).pdu
    assert (bulk.type, bulk.request_id, bulk.non_repeaters, bulk.max_repetitions) == (
        PduType.GET_BULK, 0x72A6850F, 0, 3)
    assert [vb.oid for vb in bulk.var_binds] == [LIFE[:-2], HR_DEVICE_TYPE]
    assert all(vb.value == Null() for vb in bulk.var_binds)


def test_get_response_values() -> None:
    """net-snmp printed: Counter32: 33810, Hex-STRING: 01 00, INTEGER: 3, No Such
    Instance (twice) and OID: .1.3.6.1.4.1.18334.1.1.1.2.1.181.2.4."""
    message = Message.from_bytes(GET_RESPONSE)
    assert (message.version, message.community) == (Version.V2C, b"public")
    pdu = message.pdu
    assert (pdu.type, pdu.request_id, pdu.error_status, pdu.error_index) == (
        PduType.RESPONSE, 0x301DA630, 0, 0)
    assert pdu.var_binds == (
        VarBind(LIFE, Counter32(33810)),
        VarBind(ERROR_STATE, OctetString(b"\x01\x00")),
        VarBind(DEVICE_STATUS, Integer(3)),
        VarBind(SYS_UPTIME, NoSuchInstance()),
        VarBind(SYS_OBJECT_ID, ObjectIdentifier((1, 3, 6, 1, 4, 1, 18334, 1, 1, 1, 2, 1, 181,
                                                 2, 4))),
        VarBind(LIFE_9, NoSuchInstance()),
    )
    assert message.to_bytes() == GET_RESPONSE  # pysnmp's encoding is the minimal one too


def test_next_bulk_and_v1_responses() -> None:
    printer = ObjectIdentifier((1, 3, 6, 1, 2, 1, 25, 3, 1, 5))
    assert Message.from_bytes(GET_NEXT_RESPONSE).pdu.var_binds == (
        VarBind((*HR_DEVICE_TYPE, 1), printer),)
    bulk = Message.from_bytes(BULK_RESPONSE)
    assert [(vb.oid, vb.value) for vb in bulk.pdu.var_binds] == [
        (LIFE, Counter32(33810)),
        ((*HR_DEVICE_TYPE, 1), printer),
        ((1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 5, 1, 1), Counter32(46)),
        ((*HR_DEVICE_TYPE, 2), ObjectIdentifier((1, 3, 6, 1, 2, 1, 25, 3, 1, 1))),
        ((1, 3, 6, 1, 2, 1, 43, 11, 1, 1, 5, 1, 1), Integer(3)),
        ((*HR_DEVICE_TYPE, 3), ObjectIdentifier((1, 3, 6, 1, 2, 1, 25, 3, 1, 4))),
    ]
    v1 = Message.from_bytes(V1_RESPONSE)
    assert (v1.version, v1.pdu.var_binds) == (Version.V1, (VarBind(LIFE, Counter32(33810)),))
    for golden in (GET_NEXT_RESPONSE, BULK_RESPONSE, V1_RESPONSE):
        assert Message.from_bytes(golden).to_bytes() == golden


def test_error_status_and_index() -> None:
    pdu = Message.from_bytes(GEN_ERR_RESPONSE).pdu
    assert (pdu.error_status, pdu.error_index, error_name(pdu.error_status)) == (5, 1, "genErr")
    assert pdu.var_binds == (VarBind(SERIAL, Null()),)
    assert [error_name(n) for n in (0, 1, 2, 18, 19, 99)] == [
        "noError", "tooBig", "noSuchName", "inconsistentName", "error 19", "error 99"]


@pytest.mark.parametrize(("tlv", "value"), [
    ("410100", Counter32(0)),
    ("410500ffffffff", Counter32(2**32 - 1)),
    ("42020100", Gauge32(256)),
    ("4304 01020304", TimeTicks(0x01020304)),
    ("4609 00ffffffffffffffff", Counter64(2**64 - 1)),
    ("020180", Integer(-128)),
    ("0202ff7f", Integer(-129)),
    ("0208 7fffffffffffffff", Integer(2**63 - 1)),
    ("4004 c0a80001", IpAddress(bytes((192, 168, 0, 1)))),
    ("0400", OctetString(b"")),
    ("4403 020105", Opaque(b"\x02\x01\x05")),
    ("0500", Null()),
    ("8000", NoSuchObject()),
    ("8100", NoSuchInstance()),
    ("8200", EndOfMibView()),
    ("0603 2a8648", ObjectIdentifier((1, 2, 840))),
    ("0606 2b0601048f7f", ObjectIdentifier((1, 3, 6, 1, 4, 2047))),
    ("0607 8837 8fffffff7f", ObjectIdentifier((2, 999, 2**32 - 1))),
])
def test_each_value_type_round_trips(tlv: str, value: Value) -> None:
    raw = bytes.fromhex(tlv.replace(" ", ""))
    message = Message(Version.V2C, b"c", Pdu(PduType.RESPONSE, 7, var_binds=(
        VarBind(LIFE, value),)))
    assert message.to_bytes().endswith(raw)
    assert Message.from_bytes(message.to_bytes()) == message
    assert decode_value(raw[0], raw[2:]) == value


@pytest.mark.parametrize(("tlv", "reason"), [
    ("41 04 fffffffe", "a Counter32 encoded as a negative number (-2)"),
    ("41 06 010000000000", "Counter32 1099511627776 is outside 0 to 4294967295"),
    ("46 0a 00000000000000000001", "a Counter64 of 10 octets"),
    ("02 00", "a Integer with no content"),
    ("40 03 0a0000", "an IpAddress of 3 octets"),
    ("05 01 00", "a Null with content"),
    ("81 01 00", "a NoSuchInstance with content"),
    ("47 01 05", "type 0x47 is not an SNMP value type"),
    ("06 02 2b86", "an OID whose last sub-identifier is cut short"),
])
def test_a_bad_value_costs_only_its_var_bind(tlv: str, reason: str) -> None:
    """One badly encoded value among good ones: the good ones still decode."""
    bad = bytes.fromhex(tlv.replace(" ", ""))
    pair = bytes.fromhex("060b2b06010201190305010201") + bad  # ERROR_STATE and the value
    rebuilt = _frame(VarBind(LIFE, Counter32(5)).to_bytes() + bytes((0x30, len(pair))) + pair)
    pdu = Message.from_bytes(rebuilt).pdu
    assert pdu.var_binds[0] == VarBind(LIFE, Counter32(5))
    assert pdu.var_binds[1] == VarBind(ERROR_STATE, Undecodable(bad[0], bad[2:], reason))
    assert pdu.var_binds[1].value.describe() == f"a value that cannot be decoded ({reason})"
    assert Message.from_bytes(rebuilt).to_bytes() == rebuilt


def _frame(binds: bytes, pdu_tag: int = 0xA2, version: int = 1,
           header: str = "020101 020100 020100") -> bytes:
    """A message around raw var-bind bytes (by default request-id 1, no error)."""
    def tlv(tag: int, content: bytes) -> bytes:
        assert len(content) < 128
        return bytes((tag, len(content))) + content
    pdu = tlv(pdu_tag, bytes.fromhex(header.replace(" ", "")) + tlv(0x30, binds))
    return tlv(0x30, bytes((2, 1, version)) + tlv(4, b"public") + pdu)


@pytest.mark.parametrize(("raw", "words"), [
    (b"", "the message SEQUENCE expected at byte 0, but the data ends there"),
    (b"garbage\n", "the message SEQUENCE at byte 0 should have tag 0x30, found 0x67"),
    (b"\x30\x03\x02\x01\x01", "the community expected at byte 5, but the data ends there"),
    (b"\x30\x82\xff\xff\x02", "the message SEQUENCE at byte 0 claims 65535 bytes of "
     "content, but only 1 remain"),
    (b"\x30\x80\x02\x01\x01\x00\x00", "the message SEQUENCE at byte 0 has an indefinite "
     "length, which SNMP forbids"),
    (b"\x30\x85\x00\x00\x00\x00\x01", "the message SEQUENCE at byte 0 has a 5-octet length, "
     "too long for a datagram"),
    (b"\x30\x00\x00", "1 bytes follow the message, which ends at byte 2"),
    (b"\x30\x03\x02\x01\x03", "version 3 at byte 2 is not v1 (0) or v2c (1); SNMPv3 is not "
     "spoken here"),
    (b"\x30\x02\x02\x00", "the version at byte 2 has 0 content octets"),
    (b"\x30\x03\x02\x00", "the message SEQUENCE at byte 0 claims 3 bytes of content, but "
     "only 2 remain"),
])
def test_framing_errors_say_where_and_why(raw: bytes, words: str) -> None:
    with pytest.raises(SnmpDecodeError) as caught:
        Message.from_bytes(raw)
    assert str(caught.value) == f"not an SNMP message: {words}"


def test_framing_errors_inside_the_pdu() -> None:
    def error(raw: bytes) -> str:
        with pytest.raises(SnmpDecodeError) as caught:
            Message.from_bytes(raw)
        return str(caught.value)

    assert error(_frame(b"", pdu_tag=0xA4)) == (
        "not an SNMP message: the PDU at byte 13 is an SNMPv1 trap, not a v2c PDU")
    assert error(_frame(bytes.fromhex("3003060100"))) == (
        "not an SNMP message: the value of var-bind 1 expected at byte 31, but the data "
        "ends there")
    assert error(_frame(bytes.fromhex("3004 0600 0500".replace(" ", "")))) == (
        "not an SNMP message: the name of var-bind 1 at byte 28: an OID with no content")
    assert error(_frame(bytes.fromhex("3007 06012b 0500 0500".replace(" ", "")))) == (
        "not an SNMP message: var-bind 1 at byte 26 has more than a name and a value")
    assert error(_frame(bytes.fromhex("0500"))) == (
        "not an SNMP message: var-bind 1 at byte 26 should have tag 0x30, found 0x05")
    assert error(_frame(bytes.fromhex("3005 06012b 1f00".replace(" ", "")))) == (
        "not an SNMP message: the value of var-bind 1 at byte 31 has a multi-octet tag "
        "(0x1f), which SNMP never uses")
    assert error(_frame(b"", pdu_tag=0xA5, version=0)) == (
        "not an SNMP message: the PDU at byte 13 is a GetBulkRequest, which SNMPv1 does not "
        "have")
    assert error(_frame(b"", header="020500ffffffff 020100 020100")) == (
        "not an SNMP message: the request-id at byte 15 is 4294967295, outside -2147483648 "
        "to 2147483647")
    assert error(_frame(b"", header="020101 0201ff 020100")) == (
        "not an SNMP message: the error-status at byte 18 is -1, outside 0 to 2147483647")


def test_oid_codec_limits() -> None:
    assert decode_oid(encode_oid((1, 3, 6, 1, 4, 1, 2**32 - 1))) == (1, 3, 6, 1, 4, 1, 2**32 - 1)
    assert decode_oid(bytes.fromhex("00")) == (0, 0)
    assert decode_oid(bytes.fromhex("50")) == (2, 0)
    for bad, words in [((1,), "at least two arcs"), ((3, 1), "cannot start 3.1"),
                       ((1, 40), "cannot start 1.40"), ((2, -1), "cannot start 2.-1"),
                       ((1, 3, 2**32), "outside 0 to 4294967295"),
                       ((1, 3, *range(127)), "at most 128 arcs")]:
        with pytest.raises(BerEncodeError, match=words):
            encode_oid(bad)
    assert decode_value(0x06, bytes.fromhex("2b 90808080 00".replace(" ", ""))) == (
        Undecodable(0x06, bytes.fromhex("2b9080808000"),
                    "OID sub-identifier at octet 5 exceeds 2^32-1"))
    # Found by fuzzing: a first sub-identifier past 2.(2^32-1) decoded, then could not be
    # written back.
    with pytest.raises(BerError, match="OID sub-identifier at octet 4 exceeds 2"):
        decode_oid(bytes.fromhex("9080808051"))
    assert encode_oid((2, 2**32 - 1)) == bytes.fromhex("908080804f")
    assert decode_oid(bytes.fromhex("908080804f")) == (2, 2**32 - 1)


def test_unsendable_requests_are_refused_in_words() -> None:
    with pytest.raises(BerEncodeError, match="SNMPv1 has no GetBulkRequest"):
        Message(Version.V1, b"public", get_bulk_request(1, [LIFE])).to_bytes()
    with pytest.raises(BerEncodeError, match="request-id 2147483648 is outside"):
        v2c(get_request(2**31, [LIFE])).to_bytes()
    with pytest.raises(ValueError, match="Counter32 -1 is outside 0 to 4294967295"):
        Counter32(-1)
    with pytest.raises(ValueError, match="an IpAddress has 4 octets, not 5"):
        IpAddress(b"12345")
