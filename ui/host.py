"""What the panel's parts may ask of each other, as protocols, so none imports another.

Screens see the app as a `PanelHost` and ask its `PanelActions` (the controller) to do
things; the controller sees the app as a `ControllerHost`. `ui.panel` builds all three and
is the only module that imports the concrete classes: no import cycle, at run time or in
type checking.
"""

from __future__ import annotations

from typing import Any, Protocol

from ui.config import PanelConfig
from ui.theme import Colours, Metrics


class PanelActions(Protocol):
    """What a screen may ask the controller (the agent's client) to do."""

    logged_in: bool

    def login_code(self, code: str) -> None: ...
    def show_jobs(self) -> None: ...
    def release(self, ids: list[int], release_all: bool = False) -> None: ...
    def delete(self, ids: list[int]) -> None: ...
    def cancel(self, job_key: str) -> None: ...
    def open_account(self) -> None: ...
    def logout(self) -> None: ...
    def stay(self) -> None: ...


class PanelHost(Protocol):
    """The app as a screen sees it: its look, its settings, navigation, the controller."""

    colours: Colours
    metrics: Metrics
    panel_config: PanelConfig

    @property
    def controller(self) -> PanelActions: ...
    def go(self, name: str) -> None: ...
    def go_home(self) -> None: ...


class ControllerHost(Protocol):
    """The app as the controller sees it: screens to fill in, and the shared properties."""

    balance_text: str
    offline: bool

    @property
    def logout_warning(self) -> Any: ...
    def screen(self, name: str) -> Any: ...
    def idle_screen(self) -> Any: ...
    def current_screen(self) -> str: ...
    def go(self, name: str) -> None: ...
