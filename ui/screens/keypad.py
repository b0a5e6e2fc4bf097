"""Keypad: masked code entry with large keys; the code goes straight to the agent."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen
from ui.theme import SYMBOL_FONT
from ui.widgets import Box, Text, big_button, spacer

MAX_DIGITS = 12
MASK = "\u25cf"


class KeypadScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "keypad", strings.KEYPAD_TITLE)
        c, m = self.colours, self.metrics
        self.code = ""
        main = BoxLayout(orientation="horizontal", spacing=m.pad * 2)
        left = BoxLayout(orientation="vertical", spacing=m.spacing, size_hint_x=0.6)
        display = Box(bg=c.surface, size_hint_y=None, height=m.key_h, padding=(m.pad, 0))
        self.display = Text(text="", font_name=SYMBOL_FONT, font_size=m.font_title,
                            color=c.text, halign="center")
        display.add_widget(self.display)
        left.add_widget(display)
        grid = GridLayout(cols=3, spacing=m.spacing, size_hint_y=None,
                          height=m.key_h * 4 + m.spacing * 3)
        self.keys: dict[str, object] = {}
        for label in ("1", "2", "3", "4", "5", "6", "7", "8", "9"):
            grid.add_widget(self._key(label))
        self.clear_key = big_button(strings.KEYPAD_CLEAR, c, m, self.clear, kind="secondary",
                                    height=m.key_h)
        grid.add_widget(self.clear_key)
        grid.add_widget(self._key("0"))
        self.delete_key = big_button(strings.KEYPAD_DELETE, c, m, self.delete,
                                     kind="secondary", height=m.key_h)
        grid.add_widget(self.delete_key)
        left.add_widget(grid)
        right = BoxLayout(orientation="vertical", spacing=m.spacing, size_hint_x=0.4)
        self.message = Text(text=strings.KEYPAD_HINT, font_size=m.font_body, color=c.muted,
                            valign="top")
        right.add_widget(self.message)
        right.add_widget(spacer())
        self.ok_key = big_button(strings.KEYPAD_OK, c, m, self.submit, height=m.key_h * 1.5,
                                 font_size=m.font_title)
        right.add_widget(self.ok_key)
        self.back_key = big_button(strings.KEYPAD_BACK, c, m, self.back, kind="secondary",
                                   height=m.key_h)
        right.add_widget(self.back_key)
        main.add_widget(left)
        main.add_widget(right)
        self.body.add_widget(main)

    def _key(self, digit: str) -> object:
        key = big_button(digit, self.colours, self.metrics, lambda: self.press(digit),
                         kind="secondary", height=self.metrics.key_h,
                         font_size=self.metrics.font_huge)
        self.keys[digit] = key
        return key

    def press(self, digit: str) -> None:
        if len(self.code) < MAX_DIGITS:
            self.code += digit
            self._show()

    def delete(self) -> None:
        self.code = self.code[:-1]
        self._show()

    def clear(self) -> None:
        self.code = ""
        self._show()

    def back(self) -> None:
        self.reset()
        self.app.go("idle")

    def submit(self) -> None:
        if not self.code:
            return
        code, self.code = self.code, ""
        self._show()
        self.message.text, self.message.color = strings.KEYPAD_CHECKING, self.colours.muted
        self.app.controller.login_code(code)

    def reset(self) -> None:
        """Forget any typed digits and message: nothing of a code outlives the screen."""
        self.code = ""
        self._show()
        self.message.text, self.message.color = strings.KEYPAD_HINT, self.colours.muted

    def show_error(self, text: str) -> None:
        self.message.text, self.message.color = text, self.colours.danger

    def _show(self) -> None:
        self.display.text = " ".join(MASK * len(self.code))

    def on_leave(self, *_: object) -> None:
        self.reset()
