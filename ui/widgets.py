"""Small themed building blocks shared by the screens: boxes, labels, buttons, header, banner.

Every size comes from `Metrics` and every colour from `Colours`, so a screen never hard-codes
either and the three supported screen sizes come out of the same layout code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from ui import strings
from ui.theme import RGBA, Colours, Metrics


class Box(BoxLayout):
    """A BoxLayout with an optional flat background colour."""

    def __init__(self, bg: RGBA | None = None, radius: float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if bg is not None:
            with self.canvas.before:
                self._bg_colour = Color(*bg)
                self._bg = (RoundedRectangle(radius=[radius]) if radius
                            else Rectangle())
            self.bind(pos=self._sync_bg, size=self._sync_bg)

    def set_bg(self, bg: RGBA) -> None:
        self._bg_colour.rgba = bg

    def _sync_bg(self, *_: object) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size


class Text(Label):
    """A label that wraps to its width; with `fit=True` its height follows the text."""

    def __init__(self, fit: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("halign", "left")
        kwargs.setdefault("valign", "middle")
        super().__init__(**kwargs)
        if fit:
            self.size_hint_y = None
            self.bind(width=self._wrap_width, texture_size=self._fit)
        else:
            self.bind(size=self._wrap_box)

    def _wrap_width(self, *_: object) -> None:
        self.text_size = (self.width, None)

    def _wrap_box(self, *_: object) -> None:
        self.text_size = self.size

    def _fit(self, *_: object) -> None:
        self.height = self.texture_size[1]


def big_button(text: str, colours: Colours, metrics: Metrics, on_tap: Callable[[], object],
               kind: str = "primary", **kwargs: Any) -> Button:
    """A flat button at least one touch target tall; `kind` picks the colour pair."""
    bg, fg = {
        "primary": (colours.accent, colours.accent_text),
        "secondary": (colours.secondary, colours.secondary_text),
        "danger": (colours.danger, colours.danger_text),
    }[kind]
    kwargs.setdefault("size_hint_y", None)
    kwargs.setdefault("height", metrics.button_h)
    kwargs.setdefault("font_size", metrics.font_body)
    button = Button(text=text, background_normal="",
                    background_down="", background_disabled_normal="",
                    background_disabled_down="", background_color=bg, color=fg, halign="center",
                    valign="middle", **kwargs)
    button.bind(size=lambda b, _s: setattr(b, "text_size", (b.width - 8, b.height)))
    button.bind(on_release=lambda *_: on_tap(),
                disabled=lambda b, off: setattr(b, "opacity", 0.4 if off else 1))
    button.opacity = 0.4 if button.disabled else 1
    return button


class Banner(Text):
    """A one-or-two line message bar that takes no room while it has nothing to say."""

    def __init__(self, colours: Colours, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(font_size=metrics.font_body, color=colours.danger_text,
                         size_hint_y=None, height=0, opacity=0, padding=(metrics.pad, 0),
                         **kwargs)
        self._colours, self._metrics = colours, metrics
        with self.canvas.before:
            self._colour = Color(*colours.danger)
            self._rect = Rectangle()
        self.bind(pos=self._sync, size=self._sync)

    def _sync(self, *_: object) -> None:
        self._rect.pos, self._rect.size = self.pos, self.size

    def show(self, text: str, kind: str = "danger") -> None:
        """Show `text`; kind is "danger" (red), "info" (accent) or "success" (green)."""
        colour = {"danger": self._colours.danger, "info": self._colours.accent,
                  "success": self._colours.success}[kind]
        self._colour.rgba = colour
        self.text = text
        lines = 2 if len(text) * self._metrics.font_body * 0.5 > self.width - 30 else 1
        self.height = self._metrics.font_body * 1.4 * lines + self._metrics.pad
        self.opacity = 1

    def clear(self) -> None:
        self.text, self.height, self.opacity = "", 0, 0


class Header(Box):
    """Top bar: title, offline badge, the user's balance, clock, and navigation buttons."""

    def __init__(self, app: Any, title: str, buttons: list[tuple[str, Callable[[], object]]]
                 | None = None) -> None:
        colours, metrics = app.colours, app.metrics
        super().__init__(bg=colours.header, orientation="horizontal", size_hint_y=None,
                         height=metrics.header_h, padding=(metrics.pad, 0),
                         spacing=metrics.spacing)
        self.title = Text(text=title, font_size=metrics.font_title, bold=True,
                          color=colours.header_text, shorten=True, shorten_from="right")
        self.add_widget(self.title)
        self.offline = Text(text="", font_size=metrics.font_small, color=colours.warning,
                            bold=True, size_hint_x=None, width=0, halign="center")
        self.add_widget(self.offline)
        self.balance = Text(text="", font_size=metrics.font_body, color=colours.header_text,
                            size_hint_x=None, width=0, halign="right")
        self.add_widget(self.balance)
        self.buttons = [big_button(text, colours, metrics, action, kind="secondary",
                                   size_hint=(None, None), height=metrics.button_h * 0.85,
                                   width=metrics.button_h * 1.9, pos_hint={"center_y": 0.5})
                        for text, action in buttons or []]
        for button in self.buttons:
            self.add_widget(button)
        self.clock = Text(text=app.clock_text, font_size=metrics.font_body,
                          color=colours.header_text, size_hint_x=None,
                          width=metrics.font_body * 3.2, halign="right")
        self.add_widget(self.clock)
        app.bind(clock_text=lambda _a, v: setattr(self.clock, "text", v),
                 offline=self._on_offline, balance_text=self._on_balance)
        self._on_offline(app, app.offline)
        self._on_balance(app, app.balance_text)

    def _on_offline(self, _app: object, offline: bool) -> None:
        self.offline.text = strings.OFFLINE_BADGE if offline else ""
        self.offline.width = self.offline.font_size * 4.5 if offline else 0

    def _on_balance(self, _app: object, balance_text: str) -> None:
        self.balance.text = (strings.HEADER_BALANCE.format(balance=balance_text)
                             if balance_text else "")
        self.balance.width = self.balance.font_size * 8 if balance_text else 0


def spacer() -> Widget:
    """Flexible empty room that pushes neighbours apart."""
    return Widget()
