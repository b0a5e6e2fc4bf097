"""SNMP v1/v2c messages (RFC 1157, RFC 3416): Message, Pdu and VarBind to and from bytes.

Our own codec rather than pysnmp's: pysnmp with pyasn1 and the cryptography it pulls in
cost the agent about 24 MB of its memory for the few PDUs a print terminal sends. Framing
errors raise `SnmpDecodeError` naming the byte offset; a bad value inside a well-framed
var-bind decodes to `values.Undecodable` and costs only that var-bind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from drivers.snmp import ber
from drivers.snmp.values import Null, Value, decode_value

OID = ber.OID
SEQUENCE = 0x30
INTEGER = 0x02
OCTET_STRING = 0x04
OBJECT_IDENTIFIER = 0x06
INT32 = (-(2**31), 2**31 - 1)


class SnmpDecodeError(ValueError):
    """Bytes that are not an SNMP v1/v2c message; the message says where and why."""


class Version(IntEnum):
    V1 = 0
    V2C = 1


class PduType(IntEnum):
    GET = 0xA0
    GET_NEXT = 0xA1
    RESPONSE = 0xA2
    SET = 0xA3
    GET_BULK = 0xA5
    INFORM = 0xA6
    TRAP = 0xA7
    REPORT = 0xA8


ERROR_STATUS = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess",
    "wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
    "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
    "authorizationError", "notWritable", "inconsistentName",
)


def error_name(status: int) -> str:
    """RFC 3416 error-status name, or "error N" for a number it does not define."""
    return ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else f"error {status}"


@dataclass(frozen=True)
class VarBind:
    oid: OID
    value: Value = field(default_factory=Null)

    def to_bytes(self) -> bytes:
        return ber.encode_tlv(SEQUENCE, ber.encode_tlv(OBJECT_IDENTIFIER,
                                                       ber.encode_oid(self.oid))
                              + self.value.to_bytes())


@dataclass(frozen=True)
class Pdu:
    """Any v2c PDU but the v1 Trap. In a GetBulkRequest the two integers after the
    request-id are non-repeaters and max-repetitions, sent where error-status and
    error-index are in the others (RFC 3416 §3)."""

    type: PduType
    request_id: int
    error_status: int = 0
    error_index: int = 0
    var_binds: tuple[VarBind, ...] = ()

    @property
    def non_repeaters(self) -> int:
        return self.error_status

    @property
    def max_repetitions(self) -> int:
        return self.error_index

    def to_bytes(self) -> bytes:
        for name, number in (("request-id", self.request_id),
                             ("error-status", self.error_status),
                             ("error-index", self.error_index)):
            if not INT32[0] <= number <= INT32[1]:
                raise ber.BerEncodeError(f"{name} {number} is outside the 32-bit range")
        body = b"".join(ber.encode_tlv(INTEGER, ber.encode_signed(n))
                        for n in (self.request_id, self.error_status, self.error_index))
        binds = b"".join(vb.to_bytes() for vb in self.var_binds)
        return ber.encode_tlv(self.type, body + ber.encode_tlv(SEQUENCE, binds))


def get_request(request_id: int, oids: list[OID] | tuple[OID, ...]) -> Pdu:
    return Pdu(PduType.GET, request_id, var_binds=tuple(VarBind(o) for o in oids))


def get_next_request(request_id: int, oids: list[OID] | tuple[OID, ...]) -> Pdu:
    return Pdu(PduType.GET_NEXT, request_id, var_binds=tuple(VarBind(o) for o in oids))


def get_bulk_request(request_id: int, oids: list[OID] | tuple[OID, ...], *,
                     non_repeaters: int = 0, max_repetitions: int = 10) -> Pdu:
    return Pdu(PduType.GET_BULK, request_id, non_repeaters, max_repetitions,
               tuple(VarBind(o) for o in oids))


@dataclass(frozen=True)
class Message:
    version: Version
    community: bytes
    pdu: Pdu

    def to_bytes(self) -> bytes:
        if self.version is Version.V1 and self.pdu.type is PduType.GET_BULK:
            raise ber.BerEncodeError("SNMPv1 has no GetBulkRequest")
        return ber.encode_tlv(SEQUENCE, ber.encode_tlv(INTEGER, bytes((self.version,)))
                              + ber.encode_tlv(OCTET_STRING, self.community)
                              + self.pdu.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Message:
        """One whole datagram; raises `SnmpDecodeError` for anything not a v1/v2c message."""
        try:
            return _decode(bytes(data))
        except ber.BerError as exc:
            raise SnmpDecodeError(f"not an SNMP message: {exc}") from None


def _integer(data: bytes, offset: int, end: int, what: str, low: int, high: int
             ) -> tuple[int, int]:
    tlv = ber.expect(data, offset, end, INTEGER, what)
    content = data[tlv.content:tlv.end]
    if not content or len(content) > 5:
        raise ber.BerError(f"{what} at byte {offset} has {len(content)} content octets")
    number = ber.decode_signed(content)
    if not low <= number <= high:
        raise ber.BerError(f"{what} at byte {offset} is {number}, outside {low} to {high}")
    return number, tlv.end


def _decode(data: bytes) -> Message:
    outer = ber.expect(data, 0, len(data), SEQUENCE, "the message SEQUENCE")
    if outer.end != len(data):
        raise ber.BerError(f"{len(data) - outer.end} bytes follow the message, "
                           f"which ends at byte {outer.end}")
    end = outer.end
    version, at = _integer(data, outer.content, end, "the version", 0, 2**31 - 1)
    if version not in (Version.V1, Version.V2C):
        raise ber.BerError(f"version {version} at byte {outer.content} is not v1 (0) or "
                           "v2c (1); SNMPv3 is not spoken here")
    community = ber.expect(data, at, end, OCTET_STRING, "the community")
    pdu = ber.read_tlv(data, community.end, end, "the PDU")
    try:
        pdu_type = PduType(pdu.tag)
    except ValueError:
        kind = "an SNMPv1 trap" if pdu.tag == 0xA4 else f"tag 0x{pdu.tag:02x}"
        raise ber.BerError(f"the PDU at byte {pdu.start} is {kind}, not a v2c PDU") from None
    if pdu_type is PduType.GET_BULK and version == Version.V1:
        raise ber.BerError(f"the PDU at byte {pdu.start} is a GetBulkRequest, which SNMPv1 "
                           "does not have")
    if pdu.end != end:
        raise ber.BerError(f"{end - pdu.end} bytes follow the PDU inside the message")
    request_id, at = _integer(data, pdu.content, pdu.end, "the request-id", *INT32)
    status, at = _integer(data, at, pdu.end, "the error-status", 0, INT32[1])
    index, at = _integer(data, at, pdu.end, "the error-index", 0, INT32[1])
    binds = ber.expect(data, at, pdu.end, SEQUENCE, "the var-bind list")
    if binds.end != pdu.end:
        raise ber.BerError(f"{pdu.end - binds.end} bytes follow the var-bind list")
    var_binds: list[VarBind] = []
    at = binds.content
    while at < binds.end:
        pair = ber.expect(data, at, binds.end, SEQUENCE, f"var-bind {len(var_binds) + 1}")
        name = ber.expect(data, pair.content, pair.end, OBJECT_IDENTIFIER,
                          f"the name of var-bind {len(var_binds) + 1}")
        try:
            oid = ber.decode_oid(data[name.content:name.end])
        except ber.BerError as exc:
            raise ber.BerError(f"the name of var-bind {len(var_binds) + 1} at byte "
                               f"{name.start}: {exc}") from None
        value = ber.read_tlv(data, name.end, pair.end, f"the value of var-bind "
                             f"{len(var_binds) + 1}")
        if value.end != pair.end:
            raise ber.BerError(f"var-bind {len(var_binds) + 1} at byte {pair.start} has "
                               "more than a name and a value")
        var_binds.append(VarBind(oid, decode_value(value.tag, data[value.content:value.end])))
        at = pair.end
    return Message(Version(version), data[community.content:community.end],
                   Pdu(pdu_type, request_id, status, index, tuple(var_binds)))
