"""Idle: what the printer is doing and how to start; shown whenever nobody is logged in."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from agent.api.payloads import CopyResult, PrinterStatus
from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen
from ui.screens.copy import logged_out_text
from ui.widgets import Text, big_button


class IdleScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "idle", strings.PRINTER_UNKNOWN_NAME)
        c, m = self.colours, self.metrics
        self.printer_state = Text(text=strings.AGENT_DOWN, font_size=m.font_title,
                                  color=c.muted, halign="center", size_hint_y=0.25)
        self.prompt = Text(text=app.panel_config.panel.idle_message or strings.IDLE_PROMPT,
                           font_size=m.font_huge, bold=True, color=c.text, halign="center",
                           size_hint_y=0.5)
        self.body.add_widget(self.printer_state)
        self.body.add_widget(self.prompt)
        row = BoxLayout(size_hint_y=None, height=m.button_h * 1.2, spacing=m.spacing)
        self.enter_code = big_button(strings.IDLE_ENTER_CODE, c, m, lambda: app.go("keypad"),
                                     height=m.button_h * 1.2)
        row.add_widget(self.enter_code)
        if not app.panel_config.is_hidden("idle.learn"):
            row.add_widget(big_button(strings.IDLE_LEARN, c, m, lambda: app.go("learn"),
                                      kind="secondary", height=m.button_h * 1.2))
        if not app.panel_config.is_hidden("idle.devices"):
            row.add_widget(big_button(strings.IDLE_DEVICES, c, m, lambda: app.go("devices"),
                                      kind="secondary", height=m.button_h * 1.2))
        self.alerts = big_button("", c, m, lambda: app.go("alerts"), kind="danger",
                                 height=m.button_h * 1.2)
        self._row = row
        self.body.add_widget(row)

    def show_printer(self, status: PrinterStatus) -> None:
        """A PrinterStatus from the agent: name, state and whether alerts need a button."""
        self.header.title.text = status.name or strings.PRINTER_UNKNOWN_NAME
        state = status.state
        self.printer_state.text = strings.PRINTER_STATE.get(state,
                                                            strings.PRINTER_STATE["unknown"])
        self.printer_state.color = (self.colours.danger if state == "stopped"
                                    else self.colours.muted)
        alerts = status.alerts
        self.alerts.text = strings.IDLE_ALERTS.format(count=len(alerts))
        if alerts and self.alerts.parent is None:
            self._row.add_widget(self.alerts)
        elif not alerts and self.alerts.parent is not None:
            self._row.remove_widget(self.alerts)

    def show_copy_result(self, result: CopyResult) -> None:
        """A copy session that ended with the logout settles a moment later: its pages and
        charge replace the goodbye, where the user still looks."""
        self.banner.show(logged_out_text(result), "info")

    def show_agent_down(self) -> None:
        self.printer_state.text = strings.AGENT_DOWN
        self.printer_state.color = self.colours.muted
