"""Copier-board protocol v1 frame codec, shared byte for byte by host and firmware.

Spec: PROTOCOL.md beside this file. This module must run under MicroPython as
well as CPython, so it uses only `struct`, plain classes and tuples: no
dataclasses, typing, enum or f-strings with `=`. The host's typed view is
`firmware_bridge.messages`.
"""

import struct

PROTOCOL_VERSION = 1
FIRMWARE_VERSION = (0, 1, 0)

SYNC = 0x7E
MAX_PAYLOAD = 58
OVERHEAD = 7  # sync, len, seq, type, crc (2), sync
CHANNELS = 4

# Host -> board commands.
IDENTIFY = 0x01
CONFIGURE = 0x02
ENABLE = 0x03
RENEW = 0x04
DISABLE = 0x05
READ = 0x06
# Board -> host.
ACK = 0x81
IDENTITY = 0x82
NAK = 0x83
REPORT = 0x84

STATUS_FMT = "<IIBBHII" + "II" * CHANNELS
STATUS_LEN = struct.calcsize(STATUS_FMT)  # 52
CONFIGURE_FMT = "<BBBBBHH"
IDENTITY_FMT = "<BBBBIBB"

PAYLOAD_LEN = {
    IDENTIFY: 1,
    CONFIGURE: struct.calcsize(CONFIGURE_FMT),
    ENABLE: 8,
    RENEW: 4,
    DISABLE: 0,
    READ: 0,
    ACK: 1 + STATUS_LEN,
    IDENTITY: struct.calcsize(IDENTITY_FMT),
    NAK: 2,
    REPORT: STATUS_LEN,
}

# off_reason values.
OFF_NONE = 0
OFF_BOOT = 1
OFF_HOST = 2
OFF_LEASE = 3
OFF_LIMIT = 4

# reset_cause values.
RESET_POWER_ON = 0
RESET_WATCHDOG = 1
RESET_OTHER = 2

# NAK reasons.
NAK_UNKNOWN = 1
NAK_LENGTH = 2
NAK_VALUE = 3
NAK_BUSY = 4
NAK_NOT_CONFIGURED = 5
NAK_NOT_ENABLED = 6

# Ranges (PROTOCOL.md).
LEASE_MIN_MS = 100
LEASE_MAX_MS = 600000
MIN_PULSE_MIN_MS = 1
MIN_PULSE_MAX_MS = 1000
U32 = 0xFFFFFFFF


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF; check value of b'123456789' is 0x29B1."""
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def encode(seq, kind, payload=b""):
    """One frame as bytes; raises ValueError for a payload the type does not allow."""
    want = PAYLOAD_LEN.get(kind)
    if want is None:
        raise ValueError("unknown message type")
    if len(payload) != want:
        raise ValueError("wrong payload length for this message type")
    body = bytes((len(payload), seq & 0xFF, kind)) + bytes(payload)
    crc = crc16(body)
    return bytes((SYNC,)) + body + bytes((crc >> 8, crc & 0xFF, SYNC))


class Decoder:
    """Finds frames in a byte stream that may be split, corrupted, cut or padded.

    `feed(data)` returns the complete frames as (seq, type, payload) tuples.
    Bytes that cannot start a valid frame are skipped one at a time and
    counted in `skipped`; candidates that failed a check in `rejected`.
    """

    def __init__(self):
        self.buf = bytearray()
        self.skipped = 0
        self.rejected = 0

    def feed(self, data):
        self.buf.extend(data)
        frames = []
        buf = self.buf
        pos = 0
        n = len(buf)
        while pos < n:
            if buf[pos] != SYNC:
                pos += 1
                self.skipped += 1
                continue
            if n - pos < 2:
                break
            length = buf[pos + 1]
            if length > MAX_PAYLOAD:
                pos += 1
                self.skipped += 1
                self.rejected += 1
                continue
            end = pos + OVERHEAD + length
            if n < end:
                # Incomplete, or a false start whose length points past real frames:
                # a complete valid frame further on proves the start false.
                if self._later_frame(buf, pos + 1, n):
                    pos += 1
                    self.skipped += 1
                    self.rejected += 1
                    continue
                break
            frame = self._check(buf, pos, length)
            if frame is None:
                pos += 1
                self.skipped += 1
                self.rejected += 1
                continue
            frames.append(frame)
            pos = end
        # Keep only the unread tail (MicroPython bytearray supports slice deletion).
        self.buf = buf[pos:]
        return frames

    @staticmethod
    def _later_frame(buf, start, n):
        pos = start
        while pos < n - 1:
            if buf[pos] == SYNC:
                length = buf[pos + 1]
                if length <= MAX_PAYLOAD and pos + OVERHEAD + length <= n \
                        and Decoder._check(buf, pos, length) is not None:
                    return True
            pos += 1
        return False

    @staticmethod
    def _check(buf, pos, length):
        end = pos + OVERHEAD + length
        if buf[end - 1] != SYNC:
            return None
        kind = buf[pos + 3]
        if PAYLOAD_LEN.get(kind) != length:
            return None
        body = bytes(buf[pos + 1:pos + 4 + length])
        crc = (buf[end - 3] << 8) | buf[end - 2]
        if crc16(body) != crc:
            return None
        return (buf[pos + 2], kind, body[3:])


# ----- payloads: pack/unpack as plain tuples -----------------------------------------

def pack_identify(host_protocol=PROTOCOL_VERSION):
    return struct.pack("<B", host_protocol)


def pack_identity(boot_id, reset_cause, channels=CHANNELS, protocol=PROTOCOL_VERSION,
                  firmware=FIRMWARE_VERSION):
    return struct.pack(IDENTITY_FMT, protocol, firmware[0], firmware[1], firmware[2],
                       boot_id & U32, reset_cause, channels)


def unpack_identity(payload):
    """(protocol, (major, minor, patch), boot_id, reset_cause, channels)."""
    p, a, b, c, boot_id, cause, channels = struct.unpack(IDENTITY_FMT, payload)
    return (p, (a, b, c), boot_id, cause, channels)


def pack_configure(channel, pin, kind, flags, pulses_per_page, min_pulse_ms, weight):
    return struct.pack(CONFIGURE_FMT, channel, pin, kind, flags, pulses_per_page,
                       min_pulse_ms, weight)


def unpack_configure(payload):
    """(channel, pin, kind, flags, pulses_per_page, min_pulse_ms, weight)."""
    return struct.unpack(CONFIGURE_FMT, payload)


def pack_enable(limit, lease_ms):
    return struct.pack("<II", limit, lease_ms)


def unpack_enable(payload):
    """(limit, lease_ms)."""
    return struct.unpack("<II", payload)


def pack_renew(lease_ms):
    return struct.pack("<I", lease_ms)


def unpack_renew(payload):
    return struct.unpack("<I", payload)[0]


def pack_status(boot_id, uptime_ms, relay, off_reason, session, limit, used, counters):
    """counters: CHANNELS (pulses, pages) pairs, each taken modulo 2^32."""
    flat = []
    for pulses, pages in counters:
        flat.append(pulses & U32)
        flat.append(pages & U32)
    return struct.pack(STATUS_FMT, boot_id & U32, uptime_ms & U32, relay, off_reason,
                       session & 0xFFFF, limit & U32, min(used, U32), *flat)


def unpack_status(payload):
    """(boot_id, uptime_ms, relay, off_reason, session, limit, used, ((pulses, pages), ...))."""
    v = struct.unpack(STATUS_FMT, payload)
    counters = tuple((v[7 + 2 * i], v[8 + 2 * i]) for i in range(CHANNELS))
    return (v[0], v[1], v[2], v[3], v[4], v[5], v[6], counters)


def pack_ack(command, status):
    return bytes((command,)) + status


def pack_nak(command, reason):
    return bytes((command, reason))


def wrap_delta(new, old):
    """Growth of a 32-bit cumulative counter from old to new, across one wrap."""
    return (new - old) & U32
