"""IPP numbers: delimiter and value tags (RFC 8010 §3.5), operations and status codes (RFC 8011).

Kept apart from the codec so the server, the client and tests share one spelling of each number.
"""

from __future__ import annotations

from enum import IntEnum


class GroupTag(IntEnum):
    """Delimiter tags that open an attribute group (0x03 ends the attributes)."""

    OPERATION = 0x01
    JOB = 0x02
    END = 0x03
    PRINTER = 0x04
    UNSUPPORTED = 0x05
    SUBSCRIPTION = 0x06
    EVENT_NOTIFICATION = 0x07
    RESOURCE = 0x08
    DOCUMENT = 0x09
    SYSTEM = 0x0A


class ValueTag(IntEnum):
    """Value tags. 0x10-0x1F are out-of-band: the attribute has a status, not a value."""

    UNSUPPORTED = 0x10
    DEFAULT = 0x11
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23
    OCTET_STRING = 0x30
    DATE_TIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEG_COLLECTION = 0x34
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37
    TEXT = 0x41
    NAME = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_ATTR_NAME = 0x4A
    EXTENSION = 0x7F


OUT_OF_BAND = range(0x10, 0x20)
STRING_TAGS = frozenset({
    ValueTag.TEXT, ValueTag.NAME, ValueTag.KEYWORD, ValueTag.URI, ValueTag.URI_SCHEME,
    ValueTag.CHARSET, ValueTag.NATURAL_LANGUAGE, ValueTag.MIME_MEDIA_TYPE,
})
INT_TAGS = frozenset({ValueTag.INTEGER, ValueTag.ENUM})
WITH_LANGUAGE_TAGS = frozenset({ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE})


class Operation(IntEnum):
    PRINT_JOB = 0x0002
    PRINT_URI = 0x0003
    VALIDATE_JOB = 0x0004
    CREATE_JOB = 0x0005
    SEND_DOCUMENT = 0x0006
    SEND_URI = 0x0007
    CANCEL_JOB = 0x0008
    GET_JOB_ATTRIBUTES = 0x0009
    GET_JOBS = 0x000A
    GET_PRINTER_ATTRIBUTES = 0x000B
    HOLD_JOB = 0x000C
    RELEASE_JOB = 0x000D
    CUPS_GET_DOCUMENT = 0x4027
    """A CUPS extension (spec-ipp.html): a job's document follows the answer."""


class Status(IntEnum):
    OK = 0x0000
    OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES = 0x0001
    CLIENT_ERROR_BAD_REQUEST = 0x0400
    CLIENT_ERROR_FORBIDDEN = 0x0401
    CLIENT_ERROR_NOT_AUTHENTICATED = 0x0402
    CLIENT_ERROR_NOT_AUTHORIZED = 0x0403
    CLIENT_ERROR_NOT_POSSIBLE = 0x0404
    CLIENT_ERROR_NOT_FOUND = 0x0406
    CLIENT_ERROR_GONE = 0x0407
    CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE = 0x0408
    CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED = 0x040A
    CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED = 0x040B
    CLIENT_ERROR_CHARSET_NOT_SUPPORTED = 0x040D
    CLIENT_ERROR_CONFLICTING_ATTRIBUTES = 0x040E
    CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED = 0x040F
    SERVER_ERROR_INTERNAL_ERROR = 0x0500
    SERVER_ERROR_OPERATION_NOT_SUPPORTED = 0x0501
    SERVER_ERROR_SERVICE_UNAVAILABLE = 0x0502
    SERVER_ERROR_VERSION_NOT_SUPPORTED = 0x0503
    SERVER_ERROR_NOT_ACCEPTING_JOBS = 0x0506
    SERVER_ERROR_BUSY = 0x0507
    SERVER_ERROR_JOB_CANCELED = 0x0508

    @property
    def ok(self) -> bool:
        return self < 0x0100


def status_name(code: int) -> str:
    """The RFC keyword for a status code, e.g. 'client-error-not-found'."""
    try:
        name = Status(code).name.lower().replace("_", "-")
    except ValueError:
        return f"status 0x{code:04x}"
    return "successful-" + name if name.startswith("ok") else name


class JobState(IntEnum):
    """IPP job-state (RFC 8011 §5.3.7)."""

    PENDING = 3
    PENDING_HELD = 4
    PROCESSING = 5
    PROCESSING_STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def terminal(self) -> bool:
        return self >= JobState.CANCELED


class PrinterState(IntEnum):
    """IPP printer-state (RFC 8011 §5.4.11)."""

    IDLE = 3
    PROCESSING = 4
    STOPPED = 5
