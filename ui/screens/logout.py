"""Auto-logout warning: a countdown over whatever screen is showing, with a way to stay."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from ui import strings
from ui.host import PanelHost
from ui.widgets import Box, Text, big_button


class LogoutWarning(ModalView):
    def __init__(self, app: PanelHost) -> None:
        c, m = app.colours, app.metrics
        super().__init__(size_hint=(0.7, 0.65), auto_dismiss=False, background="",
                         background_color=(0, 0, 0, 0), overlay_color=c.overlay)
        self.app = app
        box = Box(bg=c.surface, radius=m.pad, orientation="vertical", padding=m.pad * 2,
                  spacing=m.pad)
        box.add_widget(Text(text=strings.LOGOUT_TITLE, font_size=m.font_title, bold=True,
                            color=c.text, halign="center"))
        self.countdown = Text(text="", font_size=m.font_body, color=c.text, halign="center")
        box.add_widget(self.countdown)
        row = BoxLayout(size_hint_y=None, height=m.button_h, spacing=m.spacing)
        self.stay = big_button(strings.LOGOUT_STAY, c, m, app.controller.stay)
        self.leave = big_button(strings.LOGOUT_NOW, c, m, app.controller.logout,
                                kind="secondary")
        row.add_widget(self.stay)
        row.add_widget(self.leave)
        box.add_widget(row)
        self.add_widget(box)
        self.showing = False

    def show_countdown(self, seconds: int) -> None:
        self.countdown.text = strings.LOGOUT_COUNTDOWN.format(seconds=max(0, seconds))
        if not self.showing:
            self.showing = True
            self.open(animation=False)

    def hide(self) -> None:
        if self.showing:
            self.showing = False
            self.dismiss(animation=False)
