"""The Kivy application: screens in a ScreenManager, app-wide display properties, clock.

Kivy must be configured (window size, KIVY_NO_ARGS) before this module is imported;
`ui.app.main` and the test and screenshot tools do that.
"""

from __future__ import annotations

import time
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from ui import strings
from ui.config import PanelConfig
from ui.controller import Controller
from ui.screens.account import AccountScreen
from ui.screens.alerts import AlertsScreen
from ui.screens.base import PanelScreen
from ui.screens.copy import CopyScreen
from ui.screens.devices import DevicesScreen
from ui.screens.idle import IdleScreen
from ui.screens.jobs import JobsScreen
from ui.screens.keypad import KeypadScreen
from ui.screens.learn import LearnScreen
from ui.screens.logout import LogoutWarning
from ui.screens.releasing import ReleasingScreen
from ui.screens.result import ResultScreen
from ui.theme import Metrics

SCREENS = (IdleScreen, KeypadScreen, JobsScreen, ReleasingScreen, ResultScreen,
           CopyScreen, AccountScreen, LearnScreen, DevicesScreen, AlertsScreen)


class PanelApp(App):
    clock_text = StringProperty("")
    offline = BooleanProperty(False)
    balance_text = StringProperty("")

    def __init__(self, config: PanelConfig, size: tuple[int, int], connect: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = strings.APP_TITLE
        self.panel_config = config
        self.colours = config.colours()
        self.metrics = Metrics.for_size(*size)
        self.controller = Controller(self, config.socket)
        self.connect = connect
        self.screens: dict[str, PanelScreen] = {}

    def build(self) -> ScreenManager:
        self._tick()
        self.manager = ScreenManager(transition=NoTransition())
        for cls in SCREENS:
            screen = cls(self)
            self.screens[screen.name] = screen
            self.manager.add_widget(screen)
        self.logout_warning = LogoutWarning(self)
        Clock.schedule_interval(self._tick, 1.0)
        Window.clearcolor = self.colours.background
        Window.bind(on_touch_down=self._on_any_touch)
        return self.manager

    def on_start(self) -> None:
        if self.connect:
            self.controller.start()

    def on_stop(self) -> None:
        Window.unbind(on_touch_down=self._on_any_touch)

    def screen(self, name: str) -> Any:
        """The screen called `name`; typed loosely because each has its own show_* calls."""
        return self.screens[name]

    def idle_screen(self) -> IdleScreen:
        return self.screens["idle"]

    def current_screen(self) -> str:
        return str(self.manager.current)

    def go(self, name: str) -> None:
        if self.manager.current != name:
            self.screens[self.manager.current].banner.clear()
            self.manager.current = name

    def go_home(self) -> None:
        """Back from the help screens: to the jobs list when logged in, else to idle."""
        self.go("jobs" if self.controller.logged_in else "idle")

    def _tick(self, *_: object) -> None:
        self.clock_text = time.strftime(strings.CLOCK)

    def _on_any_touch(self, *_: object) -> None:
        self.controller.user_touched()
