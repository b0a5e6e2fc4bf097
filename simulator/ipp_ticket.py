"""The job ticket of a job-creating request: Job Template values checked against what we support.

Unsupported values are refused under ipp-attribute-fidelity and otherwise dropped and echoed
in the unsupported group (RFC 8011 §4.1.7), like a real printer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drivers.ipp.codec import IppAttribute, LangString, Value
from drivers.ipp.tags import Status, ValueTag
from simulator.ipp_printer_attrs import (
    COLOR_MODES,
    DOCUMENT_FORMATS,
    HOLD_UNTIL,
    MAX_COPIES,
    MEDIA,
    RESOLUTION,
    SIDES,
)
from simulator.ipp_request import KEYWORD_OR_NAME, NAME_TAGS, Ctx, IppFail


@dataclass
class Ticket:
    name: str
    user: str
    document_format: str
    copies: int = 1
    sides: str = "one-sided"
    color: bool = False
    media: str = "iso_a4_210x297mm"
    hold_until: str = "no-hold"
    impressions: int | None = None


Check = Callable[[Value], bool]
_TEMPLATE: dict[str, tuple[frozenset[int], Check]] = {
    "copies": (frozenset({ValueTag.INTEGER}),
               lambda v: isinstance(v, int) and 1 <= v <= MAX_COPIES),
    "sides": (frozenset({ValueTag.KEYWORD}), lambda v: v in SIDES),
    "print-color-mode": (frozenset({ValueTag.KEYWORD}), lambda v: v in COLOR_MODES),
    "media": (KEYWORD_OR_NAME, lambda v: v in MEDIA),
    "job-hold-until": (KEYWORD_OR_NAME, lambda v: v in HOLD_UNTIL),
    "job-priority": (frozenset({ValueTag.INTEGER}),
                     lambda v: isinstance(v, int) and 1 <= v <= 100),
    "job-sheets": (KEYWORD_OR_NAME, lambda v: v == "none"),
    "orientation-requested": (frozenset({ValueTag.ENUM}), lambda v: v in (3, 4, 5, 6)),
    "print-quality": (frozenset({ValueTag.ENUM}), lambda v: v in (3, 4, 5)),
    "finishings": (frozenset({ValueTag.ENUM}), lambda v: v == 3),
    "output-bin": (KEYWORD_OR_NAME, lambda v: v == "face-down"),
    "printer-resolution": (frozenset({ValueTag.RESOLUTION}), lambda v: v == RESOLUTION),
    "number-up": (frozenset({ValueTag.INTEGER}), lambda v: v == 1),
    "multiple-document-handling": (frozenset({ValueTag.KEYWORD}), lambda v: isinstance(v, str)),
    "media-col": (frozenset({ValueTag.BEG_COLLECTION}), lambda v: isinstance(v, dict)),
}


def _plain(value: Value) -> Value:
    return value.text if isinstance(value, LangString) else value


def _template_values(ctx: Ctx) -> dict[str, Value]:
    """Supported Job Template values from the job group; the rest handled per RFC 8011."""
    accepted: dict[str, Value] = {}
    for attr in ctx.job_group.attributes.values():
        rule = _TEMPLATE.get(attr.name)
        if rule is None:
            ctx.ignore_attr(attr, "not supported by this printer")
            continue
        tags, check = rule
        if attr.tag not in tags or len(attr.values) != 1:
            raise ctx.reject_attr(attr, "wrong syntax or more than one value")
        value = _plain(attr.value)
        if check(value):
            accepted[attr.name] = value
        else:
            ctx.ignore_attr(attr, f"value {value!r} is not supported")
    return accepted


def check_document(ctx: Ctx) -> str:
    """document-format and compression of the request; returns the format."""
    fmt = ctx.op_str("document-format", (ValueTag.MIME_MEDIA_TYPE,)) or "application/octet-stream"
    if fmt not in DOCUMENT_FORMATS:
        ctx.unsupported.add(IppAttribute("document-format", ValueTag.MIME_MEDIA_TYPE, [fmt]))
        raise IppFail(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                      f"document format {fmt} is not supported")
    compression = ctx.op_str("compression", (ValueTag.KEYWORD,))
    if compression not in (None, "none"):
        ctx.unsupported.add(IppAttribute("compression", ValueTag.KEYWORD, [compression]))
        raise IppFail(Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED,
                      f"compression {compression} is not supported")
    return fmt


def read_ticket(ctx: Ctx) -> Ticket:
    """Operation and Job Template attributes of Print-Job, Validate-Job or Create-Job."""
    ctx.op_bool("ipp-attribute-fidelity")
    ctx.op_str("document-name", NAME_TAGS)
    impressions = ctx.op_int("job-impressions")
    if impressions is not None and impressions < 0:
        raise ctx.reject_attr(ctx.op.attributes["job-impressions"], "must not be negative")
    values = _template_values(ctx)
    copies = values.get("copies", 1)
    return Ticket(
        name=ctx.op_str("job-name", NAME_TAGS) or "Untitled",
        user=ctx.user(),
        document_format=check_document(ctx),
        copies=copies if isinstance(copies, int) else 1,
        sides=str(values.get("sides", "one-sided")),
        color=values.get("print-color-mode") == "color",
        media=str(values.get("media", "iso_a4_210x297mm")),
        hold_until=str(values.get("job-hold-until", "no-hold")),
        impressions=impressions,
    )
