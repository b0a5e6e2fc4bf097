"""Releasing: live "page k of n" for the jobs just released, with a cancel button.

The screen remembers which job keys it is following and the results that came in, so it
knows when every job is done; the money figures always come from the agent.
"""

from __future__ import annotations

from kivy.graphics import Color, Rectangle

from agent.api.payloads import JobStatus, Release
from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen
from ui.widgets import Box, Text, big_button, spacer


class Bar(Box):
    """A flat progress bar in theme colours."""

    def __init__(self, app: PanelHost) -> None:
        super().__init__(bg=app.colours.secondary, size_hint_y=None,
                         height=max(16, app.metrics.spacing * 3))
        self.fraction = 0.0
        with self.canvas:
            Color(*app.colours.accent)
            self._fill = Rectangle()
        self.bind(pos=self._draw, size=self._draw)

    def set(self, fraction: float) -> None:
        self.fraction = min(1.0, max(0.0, fraction))
        self._draw()

    def _draw(self, *_: object) -> None:
        self._fill.pos = self.pos
        self._fill.size = (self.width * self.fraction, self.height)


class ReleasingScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "releasing", strings.RELEASING_TITLE)
        c, m = self.colours, self.metrics
        self.order: list[str] = []
        self.names: dict[str, str] = {}
        self.estimates: dict[str, str] = {}
        self.results: dict[str, JobStatus] = {}
        self.current = ""
        self.job_name = Text(text="", font_size=m.font_title, bold=True, color=c.text,
                             halign="center", shorten=True, shorten_from="right", fit=False,
                             size_hint_y=None, height=m.font_title * 1.6)
        self.count = Text(text="", font_size=m.font_body, color=c.muted, halign="center",
                          size_hint_y=None, height=m.font_body * 1.5)
        self.page = Text(text=strings.RELEASING_STARTING, font_size=m.font_huge, bold=True,
                         color=c.text, halign="center", size_hint_y=None,
                         height=m.font_huge * 1.6)
        self.bar = Bar(app)
        self.note = Text(text="", font_size=m.font_small, color=c.muted, halign="center",
                         fit=True)
        self.cancel = big_button(strings.RELEASING_CANCEL, c, m, self.cancel_current,
                                 kind="danger", size_hint_x=None, width=m.button_h * 5,
                                 pos_hint={"center_x": 0.5})
        for widget in (self.job_name, self.count, self.page, self.bar, self.note, spacer(),
                       self.cancel):
            self.body.add_widget(widget)

    def start(self, releases: list[Release], names: dict[int, str],
              early: dict[str, JobStatus]) -> None:
        """Follow these releases; `early` holds results that beat the release reply."""
        self.banner.clear()
        self.order = [r.job_key for r in releases]
        self.names = {r.job_key: names.get(r.id, "") for r in releases}
        self.estimates = {r.job_key: r.estimate_text for r in releases}
        self.results = {k: v for k, v in early.items() if k in self.names}
        self.current = ""
        self._focus(self._next_pending())

    def show_progress(self, status: JobStatus) -> None:
        key = status.job_key
        if key not in self.names or key in self.results:
            return
        if key != self.current:
            self._focus(key)
        printed, total = status.printed, status.total or 0
        self.page.text = strings.RELEASING_PAGE.format(printed=printed, total=total)
        self.bar.set(printed / total if total else 0.0)
        if status.state == "stopped":
            kind = status.stopped_for or ""
            self.note.text = strings.RELEASING_STOPPED.format(
                problem=strings.ALERT_TITLE.get(kind, kind or strings.PRINTER_STATE["stopped"]),
                help=strings.ALERT_HELP.get(kind, strings.ALERT_HELP_DEFAULT))
            self.note.color = self.colours.danger
        else:
            self.note.color = self.colours.muted

    def show_result(self, status: JobStatus) -> bool:
        """Record a settled job; True when every followed job has its result."""
        key = status.job_key
        if key not in self.names:
            return False
        self.results[key] = status
        pending = self._next_pending()
        if pending:
            self._focus(pending)
        return pending == ""

    def all_done(self) -> bool:
        return bool(self.order) and self._next_pending() == ""

    def ordered_results(self) -> list[JobStatus]:
        return [self.results[k] for k in self.order if k in self.results]

    def cancel_current(self) -> None:
        if self.current:
            self.note.text = strings.RELEASING_CANCELLING
            self.app.controller.cancel(self.current)

    def _next_pending(self) -> str:
        return next((k for k in self.order if k not in self.results), "")

    def _focus(self, key: str) -> None:
        self.current = key
        if not key:
            return
        self.job_name.text = self.names.get(key) or key
        index = self.order.index(key) + 1
        self.count.text = (strings.RELEASING_COUNT.format(index=index, count=len(self.order))
                           if len(self.order) > 1 else "")
        self.page.text = strings.RELEASING_STARTING
        self.bar.set(0.0)
        self.note.text = strings.RELEASING_ESTIMATE.format(estimate=self.estimates.get(key, ""))
