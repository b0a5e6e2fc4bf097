"""Result: what each released job cost, what came back and why, in the agent's figures."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView

from agent.api.payloads import JobStatus
from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen
from ui.widgets import Box, Text, big_button


def result_lines(status: JobStatus) -> list[str]:
    """The plain-words summary of one settled job."""
    total = "?" if status.total is None else status.total  # a job whose pages were unknown
    lines = [strings.RESULT_PRINTED.format(printed=status.printed, total=total),
             strings.RESULT_CHARGED.format(amount=status.charged_text)]
    if status.refunded > 0:
        refund = strings.RESULT_REFUNDED.format(amount=status.refunded_text)
        reason = status.reason_text or ""
        lines.append(f"{refund}: {reason}" if reason else refund)
    else:
        lines.append(strings.RESULT_NO_REFUND)
    if status.review:
        lines.append(strings.RESULT_REVIEW)
    return lines


class ResultScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "result", strings.RESULT_TITLE)
        c, m = self.colours, self.metrics
        self.list = GridLayout(cols=1, spacing=m.spacing, size_hint_y=None)
        self.list.bind(minimum_height=self.list.setter("height"))
        scroll = ScrollView(do_scroll_x=False, bar_width=max(6, m.spacing))
        scroll.add_widget(self.list)
        self.body.add_widget(scroll)
        bar = BoxLayout(size_hint_y=None, height=m.button_h, spacing=m.spacing)
        self.more = big_button(strings.RESULT_MORE, c, m, app.controller.show_jobs)
        self.logout = big_button(strings.RESULT_LOGOUT, c, m, app.controller.logout,
                                 kind="secondary")
        bar.add_widget(self.more)
        bar.add_widget(self.logout)
        self.body.add_widget(bar)
        self.texts: list[str] = []

    def show_results(self, results: list[JobStatus]) -> None:
        c, m = self.colours, self.metrics
        self.list.clear_widgets()
        self.texts = []
        for status in results:
            card = Box(bg=c.surface, orientation="vertical", size_hint_y=None,
                       padding=m.pad, spacing=m.spacing / 2)
            card.bind(minimum_height=card.setter("height"))
            card.add_widget(Text(text=status.name or status.job_key,
                                 font_size=m.font_title, bold=True, color=c.text, fit=True))
            for line in result_lines(status):
                card.add_widget(Text(text=line, font_size=m.font_body, color=c.text,
                                     fit=True))
                self.texts.append(line)
            self.list.add_widget(card)
