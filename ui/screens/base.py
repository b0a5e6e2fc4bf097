"""The frame every screen shares: header, message banner and a padded body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from ui import strings
from ui.host import PanelHost
from ui.widgets import Banner, Box, Header


class PanelScreen(Screen):
    """A screen with the shared frame; subclasses fill `self.body`."""

    def __init__(self, app: PanelHost, name: str, title: str,
                 buttons: list[tuple[str, Callable[[], object]]] | None = None) -> None:
        super().__init__(name=name)
        self.app = app
        self.colours, self.metrics = app.colours, app.metrics
        root = Box(bg=self.colours.background, orientation="vertical")
        self.header = Header(app, title, buttons)
        self.banner = Banner(self.colours, self.metrics)
        self.body = BoxLayout(orientation="vertical", padding=self.metrics.pad,
                              spacing=self.metrics.spacing)
        for widget in (self.header, self.banner, self.body):
            root.add_widget(widget)
        self.add_widget(root)

    def show_error(self, text: str) -> None:
        """Errors come from the agent in plain words; show them as they are."""
        self.banner.show(text, "danger")


def short_time(iso: str) -> str:
    """An ISO 8601 time as local 'HH:MM' today, else with the date; unparsable text as is."""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if when.tzinfo is not None:
        when = when.astimezone()
    today = datetime.now(when.tzinfo).date()
    return when.strftime(strings.TIME_TODAY if when.date() == today else strings.TIME_OTHER)
