"""Learn how to print: one short guide per platform, picked with large tabs."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from ui import strings
from ui.screens.base import PanelScreen
from ui.widgets import Text, big_button

if TYPE_CHECKING:
    from kivy.uix.button import Button

    from ui.host import PanelHost


class LearnScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "learn", strings.LEARN_TITLE,
                         buttons=[(strings.HEADER_BACK, app.go_home)])
        c, m = self.colours, self.metrics
        tabs = BoxLayout(size_hint_y=None, height=m.button_h, spacing=m.spacing)
        self.tabs: dict[str, Button] = {}
        for key, label in strings.LEARN_PLATFORMS.items():
            self.tabs[key] = big_button(label, c, m, partial(self.pick, key),
                                        kind="secondary")
            tabs.add_widget(self.tabs[key])
        self.body.add_widget(tabs)
        scroll = ScrollView(do_scroll_x=False, bar_width=max(6, m.spacing))
        self.guide = Text(text="", font_size=m.font_body, color=c.text, fit=True,
                          valign="top", line_height=1.25)
        scroll.add_widget(self.guide)
        self.body.add_widget(scroll)
        self.pick("windows")

    def pick(self, platform: str) -> None:
        self.guide.text = strings.LEARN_GUIDES[platform]
        for key, tab in self.tabs.items():
            chosen = key == platform
            tab.background_color = self.colours.accent if chosen else self.colours.secondary
            tab.color = self.colours.accent_text if chosen else self.colours.secondary_text
