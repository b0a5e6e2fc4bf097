"""Reading one IPP request: typed attribute access, syntax checks, and the refusal type.

Every check turns into an IPP status with a status-message, so a bad request gets a clear
answer instead of a crash.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from drivers.ipp.codec import IppAttribute, IppGroup, IppMessage, LangString, Value
from drivers.ipp.tags import GroupTag, Status, ValueTag

NAME_TAGS = frozenset({ValueTag.NAME, ValueTag.NAME_WITH_LANGUAGE})
TEXT_TAGS = frozenset({ValueTag.TEXT, ValueTag.TEXT_WITH_LANGUAGE})
KEYWORD_OR_NAME = frozenset({ValueTag.KEYWORD, *NAME_TAGS})


class IppFail(Exception):
    """Stop the operation and answer with this status and message."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Ctx:
    """One request being answered: where it came from and what the answer collects."""

    request: IppMessage
    base_uri: str
    unsupported: IppGroup = field(default_factory=lambda: IppGroup(GroupTag.UNSUPPORTED))
    status: Status = Status.OK

    @property
    def op(self) -> IppGroup:
        return self.request.operation

    @property
    def job_group(self) -> IppGroup:
        return self.request.group(GroupTag.JOB) or IppGroup(GroupTag.JOB)

    @property
    def fidelity(self) -> bool:
        return self.op.value("ipp-attribute-fidelity") is True

    def reject_attr(self, attr: IppAttribute, why: str) -> IppFail:
        """Put the attribute in the unsupported group and build the refusal."""
        self.unsupported.add(attr)
        return IppFail(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                       f"{attr.name}: {why}")

    def ignore_attr(self, attr: IppAttribute, why: str) -> None:
        """An unsupported Job Template value: refuse under fidelity, else drop it and say so."""
        if self.fidelity:
            raise self.reject_attr(attr, why)
        self.unsupported.add(attr)
        self.status = Status.OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES

    def one(self, group: IppGroup, attr_name: str, tags: Collection[int]) -> Value:
        """The single value of an attribute, None when absent; wrong syntax is refused."""
        attr = group.get(attr_name)
        if attr is None:
            return None
        if attr.tag not in tags or len(attr.values) != 1:
            raise self.reject_attr(attr, "wrong syntax or more than one value")
        value = attr.value
        return value.text if isinstance(value, LangString) else value

    def op_int(self, attr_name: str) -> int | None:
        value = self.one(self.op, attr_name, (ValueTag.INTEGER,))
        return value if isinstance(value, int) else None

    def op_bool(self, attr_name: str) -> bool | None:
        value = self.one(self.op, attr_name, (ValueTag.BOOLEAN,))
        return value if isinstance(value, bool) else None

    def op_str(self, attr_name: str, tags: Collection[int]) -> str | None:
        value = self.one(self.op, attr_name, tags)
        return value if isinstance(value, str) else None

    def user(self) -> str:
        return self.op_str("requesting-user-name", NAME_TAGS) or "anonymous"

    def requested(self, default: frozenset[str]) -> frozenset[str]:
        """requested-attributes as a set of keywords (the default when absent)."""
        attr = self.op.get("requested-attributes")
        if attr is None:
            return default
        if attr.tag != ValueTag.KEYWORD or not all(isinstance(v, str) for v in attr.values):
            raise self.reject_attr(attr, "must be keywords")
        return frozenset(str(v) for v in attr.values)


def select(group: IppGroup, requested: frozenset[str],
           expansions: dict[str, frozenset[str]]) -> IppGroup:
    """The attributes of `group` that were asked for ('all' or group names expand)."""
    if "all" in requested:
        return group
    wanted = set(requested)
    for keyword, names in expansions.items():
        if keyword in requested:
            wanted |= names
    return IppGroup(group.tag, {k: v for k, v in group.attributes.items() if k in wanted})


def check_header(ctx: Ctx, operations: Collection[int]) -> None:
    """RFC 8011 §4.1: version, request-id, charset and language first, a known operation."""
    msg = ctx.request
    if msg.version[0] not in (1, 2):
        raise IppFail(Status.SERVER_ERROR_VERSION_NOT_SUPPORTED,
                      f"IPP version {msg.version[0]}.{msg.version[1]} is not supported")
    if msg.request_id <= 0:
        raise IppFail(Status.CLIENT_ERROR_BAD_REQUEST, "request-id must be greater than 0")
    if not msg.groups or msg.groups[0].tag != GroupTag.OPERATION:
        raise IppFail(Status.CLIENT_ERROR_BAD_REQUEST,
                      "the request must start with the operation attributes")
    names = list(msg.groups[0].attributes)
    if names[:2] != ["attributes-charset", "attributes-natural-language"]:
        raise IppFail(Status.CLIENT_ERROR_BAD_REQUEST, "the first two operation attributes "
                      "must be attributes-charset and attributes-natural-language")
    charset = ctx.op_str("attributes-charset", (ValueTag.CHARSET,))
    if charset is None or charset.lower() not in ("utf-8", "us-ascii"):
        raise IppFail(Status.CLIENT_ERROR_CHARSET_NOT_SUPPORTED,
                      f"charset {charset!r} is not supported (use utf-8)")
    ctx.one(ctx.op, "attributes-natural-language", (ValueTag.NATURAL_LANGUAGE,))
    if msg.code not in operations:
        raise IppFail(Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED,
                      f"operation 0x{msg.code:04x} is not supported")
    if ctx.op_str("printer-uri", (ValueTag.URI,)) is None and "job-uri" not in ctx.op:
        raise IppFail(Status.CLIENT_ERROR_BAD_REQUEST, "printer-uri is missing")


def target_job_id(ctx: Ctx) -> int:
    """The job an operation is about: job-uri, or printer-uri plus job-id."""
    job_uri = ctx.op_str("job-uri", (ValueTag.URI,))
    if job_uri is not None:
        tail = job_uri.rstrip("/").rsplit("/", 1)[-1]
        if not tail.isdigit():
            raise IppFail(Status.CLIENT_ERROR_NOT_FOUND, f"no job at {job_uri}")
        return int(tail)
    job_id = ctx.op_int("job-id")
    if job_id is None:
        raise IppFail(Status.CLIENT_ERROR_BAD_REQUEST, "job-id is missing")
    return job_id
