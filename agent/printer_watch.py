"""Keep the panel's view of the printer current: state, alerts and what to do about them."""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from agent.api.payloads import Alert, Counters, PrinterState
from agent.metering.probe import Reading

log = logging.getLogger("pagetally.printer")

ALERTS: dict[str, tuple[str, str, str]] = {
    "media-jam-error": ("jam", "Paper jam",
                        "Open the front door, gently pull out the jammed paper, close the door."),
    "media-empty-error": ("paper-out", "Out of paper",
                          "Load paper in the tray shown on the printer; printing resumes."),
    "media-needed-error": ("paper-out", "Out of paper",
                           "Load paper in the tray shown on the printer; printing resumes."),
    "toner-low-warning": ("toner-low", "Toner low",
                          "Printing continues. Tell the help desk so they can order toner."),
    "toner-empty-error": ("toner-empty", "Toner empty", "Call the help desk to replace toner."),
    "offline-report": ("offline", "Printer offline", "Check the printer is on and connected."),
}


class PrinterView(msgspec.Struct, kw_only=True):
    """What the poller's reading says; the API's PrinterStatus adds what the agent knows."""

    name: str
    state: PrinterState
    reasons: list[str]
    alerts: list[Alert]
    counters: Counters
    problems: list[str]

_STATES: dict[str, PrinterState] = {"idle": "idle", "processing": "printing",
                                    "stopped": "stopped", "asleep": "asleep"}
"""IPP printer-state as the panel names it; anything else (unread, unknown) is "unknown"."""


def printer_view(reading: Reading, name: str) -> PrinterView:
    alerts = []
    for reason in reading.reasons:
        found = ALERTS.get(reason)
        if found:
            kind, text, help_ = found
            alerts.append(Alert(kind=kind, text=text, help=help_))
    state = reading.printer_state
    if "sleep" in reading.reasons and state == "idle":
        state = "asleep"
    return PrinterView(name=name, state=_STATES.get(state, "unknown"),
                       reasons=list(reading.reasons), alerts=alerts,
                       counters=Counters(snmp=reading.snmp_life, ipp=reading.ipp_total),
                       problems=list(reading.problems))


class PrinterWatch:
    """The printer as the panel and the retained `printer` topic see it, from each of the
    poller's readings; they hear of it when its state or alerts change."""

    def __init__(self, name: str, changed: Callable[[PrinterView], None]) -> None:
        self.name = name
        self.changed = changed
        self.view = PrinterView(name=name, state="unknown", reasons=[], alerts=[],
                                counters=Counters(snmp=None, ipp=None), problems=[])

    def update(self, reading: Reading) -> None:
        view = printer_view(reading, self.name)
        if (view.state, view.alerts) != (self.view.state, self.view.alerts):
            log.info("printer %s: %s %s", self.name, view.state,
                     ", ".join(a.text for a in view.alerts) or "")
            self.changed(view)
        self.view = view
