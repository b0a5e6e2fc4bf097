"""Keep the panel's view of the printer current: state, alerts and what to do about them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

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


def printer_view(reading: Reading, name: str) -> dict[str, Any]:
    alerts = []
    for reason in reading.reasons:
        found = ALERTS.get(reason)
        if found:
            kind, text, help_ = found
            alerts.append({"kind": kind, "text": text, "help": help_})
    state = reading.printer_state
    if "sleep" in reading.reasons and state == "idle":
        state = "asleep"
    return {"name": name, "state": "printing" if state == "processing" else state,
            "reasons": list(reading.reasons), "alerts": alerts,
            "counters": {"snmp": reading.snmp_life, "ipp": reading.ipp_total},
            "problems": list(reading.problems)}


class PrinterWatch:
    """The printer as the panel and the retained `printer` topic see it, from each of the
    poller's readings; they hear of it when its state or alerts change."""

    def __init__(self, name: str, notify: Callable[[str, dict[str, Any]], None]) -> None:
        self.name = name
        self.notify = notify
        self.view: dict[str, Any] = {"name": name, "state": "unknown", "reasons": [],
                                     "alerts": [], "counters": {}, "problems": []}

    def update(self, reading: Reading) -> None:
        view = printer_view(reading, self.name)
        if (view["state"], view["alerts"]) != (self.view["state"], self.view["alerts"]):
            log.info("printer %s: %s %s", self.name, view["state"],
                     ", ".join(a["text"] for a in view["alerts"]) or "")
            self.notify("printer", view)
        self.view = view
