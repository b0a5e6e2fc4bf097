"""The simulated printer's IPP attributes: capabilities, live state and counters.

Capabilities are what `ipptool`'s ipp-1.1.test and ipp-2.0.test require of a printer; the
live part (state, reasons, counters) is read from the engine at each request.
"""

from __future__ import annotations

import time
import uuid

from drivers.ipp import build as b
from drivers.ipp.codec import IppAttribute, IppGroup, Resolution
from drivers.ipp.tags import GroupTag, Operation, ValueTag
from simulator.engine import Engine

OPERATIONS = (
    Operation.PRINT_JOB, Operation.VALIDATE_JOB, Operation.CREATE_JOB, Operation.SEND_DOCUMENT,
    Operation.CANCEL_JOB, Operation.GET_JOB_ATTRIBUTES, Operation.GET_JOBS,
    Operation.GET_PRINTER_ATTRIBUTES, Operation.HOLD_JOB, Operation.RELEASE_JOB,
)
DOCUMENT_FORMATS = ("application/pdf", "text/plain", "application/postscript",
                    "image/pwg-raster", "application/octet-stream")
SIDES = ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
COLOR_MODES = ("auto", "monochrome", "color")
MEDIA = {"iso_a4_210x297mm": (21000, 29700), "na_letter_8.5x11in": (21590, 27940)}
HOLD_UNTIL = ("no-hold", "indefinite")
WHICH_JOBS = ("completed", "not-completed", "all")
MAX_COPIES = 999
RESOLUTION = Resolution(600, 600, 3)

JOB_TEMPLATE = frozenset({
    "copies", "finishings", "job-hold-until", "job-priority", "job-sheets", "media",
    "media-col", "multiple-document-handling", "number-up", "orientation-requested",
    "output-bin", "print-color-mode", "print-quality", "printer-resolution", "sides",
})


def _media_col(media: str) -> list[IppAttribute]:
    x, y = MEDIA[media]
    size = b.collection("media-size", [b.integer("x-dimension", x), b.integer("y-dimension", y)])
    return [size, b.keyword("media-type", "stationery"), b.keyword("media-source", "tray-1")]


class StateClock:
    """Remembers when printer-state last changed (printer-state-change-time)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.state = engine.printer_state
        self.changed_at = time.time()
        engine.add_listener(self._on_change)

    def _on_change(self) -> None:
        state = self.engine.printer_state
        if state != self.state:
            self.state, self.changed_at = state, time.time()


def _template_attrs(ppm: int) -> list[IppAttribute]:
    a4 = "iso_a4_210x297mm"
    return [
        b.integer("copies-default", 1), b.int_range("copies-supported", (1, MAX_COPIES)),
        b.enum("finishings-default", 3), b.enum("finishings-supported", 3),
        b.keyword("job-hold-until-default", "no-hold"),
        b.keyword("job-hold-until-supported", *HOLD_UNTIL),
        b.integer("job-priority-default", 50), b.integer("job-priority-supported", 100),
        b.keyword("job-sheets-default", "none"), b.keyword("job-sheets-supported", "none"),
        b.keyword("media-default", a4), b.keyword("media-supported", *MEDIA),
        b.keyword("media-ready", a4),
        b.collection("media-col-default", _media_col(a4)),
        b.collection("media-col-ready", _media_col(a4)),
        b.keyword("media-col-supported", "media-size", "media-type", "media-source"),
        b.collection("media-size-supported", *(
            [b.integer("x-dimension", x), b.integer("y-dimension", y)] for x, y in MEDIA.values()
        )),
        b.keyword("media-type-supported", "stationery"),
        b.keyword("media-source-supported", "tray-1"),
        b.keyword("multiple-document-handling-supported", "separate-documents-collated-copies",
                  "separate-documents-uncollated-copies"),
        b.integer("number-up-default", 1), b.integer("number-up-supported", 1),
        b.enum("orientation-requested-default", 3),
        b.enum("orientation-requested-supported", 3, 4, 5, 6),
        b.keyword("output-bin-default", "face-down"),
        b.keyword("output-bin-supported", "face-down"),
        b.keyword("print-color-mode-default", "monochrome"),
        b.keyword("print-color-mode-supported", *COLOR_MODES),
        b.enum("print-quality-default", 4), b.enum("print-quality-supported", 3, 4, 5),
        b.resolution("printer-resolution-default", RESOLUTION),
        b.resolution("printer-resolution-supported", RESOLUTION),
        b.keyword("sides-default", "one-sided"), b.keyword("sides-supported", *SIDES),
        b.integer("pages-per-minute", ppm), b.integer("pages-per-minute-color", ppm),
        b.int_range("job-impressions-supported", (0, 1_000_000)),
        b.int_range("job-media-sheets-supported", (0, 1_000_000)),
        b.keyword("job-creation-attributes-supported", *sorted(JOB_TEMPLATE),
                  "job-name", "job-impressions"),
    ]


def _counter_attrs(engine: Engine) -> list[IppAttribute]:
    """Printer counters, unless the device is told to behave like one that reports none."""
    if not engine.faults.ipp_counters:
        return []
    counters = engine.counters
    return [
        b.integer("printer-impressions-completed", counters.ipp_total),
        b.collection("printer-impressions-completed-col", [
            b.integer("monochrome", counters.true_mono),
            b.integer("full-color", counters.true_color),
        ]),
    ]


LOCATION = "Salle de reprographie, 2e étage"
"""printer-location: in Latin-1 under quirk latin1_text, as Brother and Ricoh send it."""


def _identity_text(engine: Engine) -> list[IppAttribute]:
    """printer-info, and printer-location as UTF-8 or (quirk) as raw Latin-1 bytes."""
    location = LOCATION.encode("latin-1") if engine.quirks.latin1_text else LOCATION
    return [b.text("printer-info", engine.config.name),
            IppAttribute("printer-location", ValueTag.TEXT, [location])]


def _current_time(engine: Engine, now: float) -> list[IppAttribute]:
    """printer-current-time, which printers stamping only up-time do not have."""
    if engine.quirks.job_times == "uptime-only":
        return []
    return [b.date_time("printer-current-time", engine.device_clock(now))]


def printer_attributes(engine: Engine, clock: StateClock, base_uri: str,
                       http_base: str) -> IppGroup:
    """Every printer attribute, read fresh from the engine."""
    cfg = engine.config
    now = time.time()
    not_done = [j for j in engine.ipp_jobs() if not j.state.terminal]
    printer_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"pagetally-sim:{cfg.serial_number}")
    return IppGroup(GroupTag.PRINTER).add(
        b.uri("printer-uri-supported", base_uri),
        b.keyword("uri-security-supported", "none"),
        b.keyword("uri-authentication-supported", "requesting-user-name"),
        b.name("printer-name", "pagetally-sim"),
        *_identity_text(engine),
        b.text("printer-make-and-model", "PageTally Simulated MFD"),
        b.uri("printer-more-info", f"{http_base}/sim/state"),
        b.text("printer-device-id", "MFG:PageTally;MDL:Simulated MFD;CMD:PDF,PS,PWG;"),
        b.uri("printer-uuid", printer_uuid.urn),
        b.text("printer-message-from-operator", ""),
        b.enum("printer-state", engine.printer_state),
        b.keyword("printer-state-reasons", *engine.state_reasons),
        b.text("printer-state-message", engine.console_text),
        b.integer("printer-state-change-time", engine.seconds_since_boot(clock.changed_at)),
        b.integer("printer-config-change-time", 1),
        b.integer("printer-up-time", engine.seconds_since_boot(now)),
        *_current_time(engine, now),
        b.boolean("printer-is-accepting-jobs", True),
        b.integer("queued-job-count", len(not_done)),
        *_counter_attrs(engine),
        b.enum("operations-supported", *OPERATIONS),
        b.charset("charset-configured", "utf-8"),
        b.charset("charset-supported", "utf-8", "us-ascii"),
        b.language("natural-language-configured", "en"),
        b.language("generated-natural-language-supported", "en"),
        b.mime_type("document-format-default", "application/octet-stream"),
        b.mime_type("document-format-supported", *DOCUMENT_FORMATS),
        b.keyword("compression-supported", "none"),
        b.keyword("ipp-versions-supported", "1.0", "1.1", "2.0"),
        b.keyword("pdl-override-supported", "attempted"),
        b.boolean("color-supported", True),
        b.boolean("multiple-document-jobs-supported", False),
        b.integer("multiple-operation-time-out", 60),
        b.keyword("which-jobs-supported", *WHICH_JOBS),
        b.boolean("job-ids-supported", False),
        b.keyword("printer-kind", "document"),
        b.resolution("pwg-raster-document-resolution-supported", RESOLUTION),
        b.keyword("pwg-raster-document-type-supported", "sgray_8", "srgb_8"),
        b.keyword("pwg-raster-document-sheet-back", "normal"),
        *_template_attrs(max(1, int(cfg.ppm))),
    )


TEMPLATE_ATTRS = frozenset(
    n for t in JOB_TEMPLATE for n in (f"{t}-default", f"{t}-supported")
) | {"media-ready", "media-col-ready", "media-size-supported", "media-type-supported",
     "media-source-supported"}


def printer_expansions(group: IppGroup) -> dict[str, frozenset[str]]:
    """What the group keywords of requested-attributes stand for."""
    names = frozenset(group.attributes)
    return {"job-template": names & TEMPLATE_ATTRS,
            "printer-description": names - TEMPLATE_ATTRS}
