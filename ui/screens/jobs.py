"""Jobs: the user's held jobs; select and print, print all, or delete.

Releasing is two taps from here (a job, then Print selected) or one (Print all).
"""

from __future__ import annotations

from kivy.properties import BooleanProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView

from agent.api.payloads import Expired, HeldJob, Session
from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen, short_time
from ui.theme import SYMBOL_FONT, Colours, Metrics
from ui.widgets import Box, Text, big_button

CHECKED, UNCHECKED = "\u2611", "\u2610"


def job_details(job: HeldJob) -> str:
    """One line: when it was sent, pages, colour and sides, in the user's words. A job whose
    pages could not be counted says so, and that its figure is a deposit held until it
    prints, not its price."""
    pages, copies = job.pages, job.copies or 1
    if job.estimate_kind == "deposit" or pages is None:
        count = strings.JOBS_PAGES_UNKNOWN.format(amount=job.estimate_text)
    elif copies > 1:
        count = strings.JOBS_COPIES.format(pages=pages, copies=copies)
    else:
        count = strings.JOBS_PAGE if pages == 1 else strings.JOBS_PAGES.format(pages=pages)
    return "  \u00b7  ".join((
        strings.JOBS_SUBMITTED.format(time=short_time(job.submitted_at or "")),
        count,
        strings.JOBS_COLOUR if job.color else strings.JOBS_MONO,
        strings.JOBS_DUPLEX if job.duplex else strings.JOBS_SIMPLEX,
    ))


def waited_text(seconds: float) -> str:
    """A wait in the unit people use for it: '4 hours', '90 minutes', '30 seconds'."""
    if seconds >= 7200:
        return strings.JOBS_HOURS.format(count=round(seconds / 3600))
    if seconds >= 120:
        return strings.JOBS_MINUTES.format(count=round(seconds / 60))
    return strings.JOBS_SECONDS.format(count=max(1, round(seconds)))


def expired_text(expired: list[Expired]) -> str:
    """E.g. 'report.pdf waited more than 4 hours and was deleted. You were not charged.'"""
    waited = waited_text(expired[0].waited_s)
    names = ", ".join(job.name for job in expired[:2])
    if len(expired) > 2:
        names = strings.JOBS_AND_MORE.format(names=names, more=len(expired) - 2)
    text = strings.JOBS_EXPIRED if len(expired) == 1 else strings.JOBS_EXPIRED_MANY
    return text.format(names=names, waited=waited)


class JobRow(ButtonBehavior, Box):
    """One held job; a tap selects or unselects it."""

    selected = BooleanProperty(False)

    def __init__(self, job: HeldJob, colours: Colours, metrics: Metrics) -> None:
        super().__init__(bg=colours.surface, orientation="horizontal", size_hint_y=None,
                         height=metrics.row_h, padding=(metrics.pad, metrics.spacing / 2),
                         spacing=metrics.pad)
        self.job, self._colours = job, colours
        self.check = Text(text=UNCHECKED, font_name=SYMBOL_FONT, font_size=metrics.font_huge,
                          color=colours.accent, size_hint_x=None, width=metrics.font_huge,
                          halign="center")
        middle = BoxLayout(orientation="vertical")
        middle.add_widget(Text(text=job.name, font_size=metrics.font_body,
                               bold=True, color=colours.text, shorten=True,
                               shorten_from="right"))
        middle.add_widget(Text(text=job_details(job), font_name=SYMBOL_FONT,
                               font_size=metrics.font_small, color=colours.muted,
                               shorten=True, shorten_from="right"))
        cost = Text(text=job.estimate_text, font_size=metrics.font_body,
                    bold=True, color=colours.text, halign="right", size_hint_x=None,
                    width=metrics.font_body * 5)
        for widget in (self.check, middle, cost):
            self.add_widget(widget)

    def on_release(self) -> None:
        self.selected = not self.selected

    def on_selected(self, _row: object, selected: bool) -> None:
        self.check.text = CHECKED if selected else UNCHECKED
        self.set_bg(self._colours.selected if selected else self._colours.surface)


class JobsScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "jobs", "", buttons=[
            (strings.HEADER_ACCOUNT, app.controller.open_account),
            (strings.HEADER_LOGOUT, app.controller.logout),
        ])
        c, m = self.colours, self.metrics
        self.account, self.logout = self.header.buttons
        self.rows: list[JobRow] = []
        self.list = GridLayout(cols=1, spacing=m.spacing, size_hint_y=None)
        self.list.bind(minimum_height=self.list.setter("height"))
        self.scroll = ScrollView(do_scroll_x=False, bar_width=max(6, m.spacing))
        self.scroll.add_widget(self.list)
        self.empty = Text(text=strings.JOBS_LOADING, font_size=m.font_title, color=c.muted,
                          halign="center")
        self.body.add_widget(self.empty)
        bar = BoxLayout(size_hint_y=None, height=m.button_h, spacing=m.spacing)
        self.print_selected = big_button(strings.JOBS_PRINT_SELECTED.format(count=0), c, m,
                                         self.release_selected, disabled=True)
        self.print_all = big_button(strings.JOBS_PRINT_ALL, c, m, self.release_all,
                                    disabled=True)
        bar.add_widget(self.print_selected)
        bar.add_widget(self.print_all)
        self.delete = big_button(strings.JOBS_DELETE, c, m, self.delete_selected,
                                 kind="danger", disabled=True)
        if not app.panel_config.is_hidden("jobs.delete"):
            bar.add_widget(self.delete)
        self.copy_button = big_button(strings.JOBS_COPY, c, m, app.controller.start_copy,
                               kind="secondary", size_hint_x=0.6)
        self.bar = bar
        self.body.add_widget(bar)

    def show_copier(self, copier: bool) -> None:
        """The Copy button, only on a device whose copier the agent can switch."""
        if copier and self.copy_button.parent is None:
            self.bar.add_widget(self.copy_button)
        elif not copier and self.copy_button.parent is not None:
            self.bar.remove_widget(self.copy_button)

    def show_session(self, session: Session) -> None:
        self.header.title.text = strings.JOBS_TITLE.format(
            name=session.display_name or session.user)

    def show_loading(self) -> None:
        self.banner.clear()
        self._set_rows([])
        self.empty.text = strings.JOBS_LOADING

    def show_jobs(self, jobs: list[HeldJob]) -> None:
        self._set_rows(jobs)
        self.empty.text = strings.JOBS_EMPTY

    def show_denied(self, message: str) -> None:
        """The agent's message carries the figures (balance and cost); show it whole."""
        text = message if message.startswith(strings.JOBS_DENIED) else (
            f"{strings.JOBS_DENIED}: {message}")
        self.banner.show(text, "danger")

    def show_info(self, text: str) -> None:
        self.banner.show(text, "success")

    def show_expired(self, expired: list[Expired]) -> None:
        """Jobs deleted for waiting too long: said once the list is shown, so nobody hunts
        for a job that is gone."""
        self.banner.show(expired_text(expired), "info")

    def _set_rows(self, jobs: list[HeldJob]) -> None:
        self.list.clear_widgets()
        self.rows = [JobRow(job, self.colours, self.metrics) for job in jobs]
        for row in self.rows:
            row.bind(selected=self._on_select)
            self.list.add_widget(row)
        showing = self.scroll if self.rows else self.empty
        if showing.parent is None:
            hidden = self.empty if self.rows else self.scroll
            self.body.remove_widget(hidden)
            self.body.add_widget(showing, index=1)
        self._on_select()

    def selected_ids(self) -> list[int]:
        return [row.job.id for row in self.rows if row.selected]

    def _on_select(self, *_: object) -> None:
        count = len(self.selected_ids())
        self.print_selected.text = strings.JOBS_PRINT_SELECTED.format(count=count)
        self.print_selected.disabled = self.delete.disabled = count == 0
        self.print_all.disabled = not self.rows

    def release_selected(self) -> None:
        self.banner.clear()
        self.app.controller.release(self.selected_ids())

    def release_all(self) -> None:
        self.banner.clear()
        self.app.controller.release([], release_all=True)

    def delete_selected(self) -> None:
        self.banner.clear()
        self.app.controller.delete(self.selected_ids())
