"""Printer alerts: each alert with what the user can do about it."""

from __future__ import annotations

from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView

from agent.api.payloads import Alert, PrinterStatus
from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen
from ui.widgets import Box, Text


def alert_help(alert: Alert) -> tuple[str, str, str]:
    """Title, what the printer says, and what to do; local words for the kinds we know."""
    kind, text = alert.kind, alert.text
    title = strings.ALERT_TITLE.get(kind, text or kind)
    advice = strings.ALERT_HELP.get(kind) or alert.help or strings.ALERT_HELP_DEFAULT
    return title, text if text != title else "", advice


class AlertsScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "alerts", strings.ALERTS_TITLE,
                         buttons=[(strings.HEADER_BACK, app.go_home)])
        m = self.metrics
        self.list = GridLayout(cols=1, spacing=m.spacing, size_hint_y=None)
        self.list.bind(minimum_height=self.list.setter("height"))
        scroll = ScrollView(do_scroll_x=False, bar_width=max(6, m.spacing))
        scroll.add_widget(self.list)
        self.body.add_widget(scroll)
        self.titles: list[str] = []
        self.show_printer(None)

    def show_printer(self, status: PrinterStatus | None) -> None:
        """The printer's alerts; None before the agent said anything (no alerts)."""
        c, m = self.colours, self.metrics
        self.list.clear_widgets()
        alerts = status.alerts if status else []
        self.titles = []
        if not alerts:
            self.list.add_widget(Text(text=strings.ALERTS_NONE, font_size=m.font_title,
                                      color=c.muted, fit=True))
        for alert in alerts:
            title, detail, advice = alert_help(alert)
            self.titles.append(title)
            card = Box(bg=c.surface, orientation="vertical", size_hint_y=None,
                       padding=m.pad, spacing=m.spacing / 2)
            card.bind(minimum_height=card.setter("height"))
            card.add_widget(Text(text=title, font_size=m.font_title, bold=True,
                                 color=c.danger, fit=True))
            if detail:
                card.add_widget(Text(text=detail, font_size=m.font_small, color=c.muted,
                                     fit=True))
            card.add_widget(Text(text=advice, font_size=m.font_body, color=c.text, fit=True))
            self.list.add_widget(card)
