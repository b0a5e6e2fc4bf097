"""Each screen offers what the controller's view of it (ui.host) names, with the same types.

mypy cannot check this: Kivy ships no type hints, so every screen has an untyped base and
passes for any protocol. The controller is typed against the views; this test holds the
screens to them, method by method, parameter and result types included (the views'
properties, attributes of the screens, are read by the panel flow tests).
"""

from __future__ import annotations

import inspect
import typing

import pytest

from ui import host
from ui.screens.account import AccountScreen
from ui.screens.alerts import AlertsScreen
from ui.screens.copy import CopyScreen
from ui.screens.idle import IdleScreen
from ui.screens.jobs import JobsScreen
from ui.screens.keypad import KeypadScreen
from ui.screens.logout import LogoutWarning
from ui.screens.releasing import ReleasingScreen
from ui.screens.result import ResultScreen
from ui.widgets import Banner

PAIRS = [(host.JobsView, JobsScreen), (host.ReleasingView, ReleasingScreen),
         (host.ResultView, ResultScreen), (host.AccountView, AccountScreen),
         (host.CopyView, CopyScreen), (host.AlertsView, AlertsScreen),
         (host.IdleView, IdleScreen), (host.ScreenView, KeypadScreen),
         (host.LogoutWarningView, LogoutWarning), (host.BannerView, Banner)]


def methods(view: type) -> dict[str, object]:
    """The view's methods, its own and those of the views it extends."""
    found: dict[str, object] = {}
    for cls in reversed(view.__mro__):
        if not getattr(cls, "_is_protocol", False) or cls is typing.Protocol:
            continue
        found |= {name: member for name, member in vars(cls).items()
                  if inspect.isfunction(member) and not name.startswith("_")}
    return found


def test_the_controllers_views_name_every_screen_it_fills() -> None:
    """A sanity check on the pairing itself: the views the controller can ask for."""
    asked = {typing.get_type_hints(fn)["return"]
             for fn in typing.get_overloads(host.ControllerHost.screen)}
    assert asked <= {view for view, _ in PAIRS}
    assert typing.get_type_hints(host.ControllerHost.idle_screen)["return"] is host.IdleView


@pytest.mark.parametrize(("view", "screen"), PAIRS, ids=lambda x: x.__name__)
def test_the_screen_has_each_method_of_its_view_with_the_same_types(view: type,
                                                                    screen: type) -> None:
    wanted = methods(view)
    assert wanted, f"{view.__name__} names no method"
    for name, proto in wanted.items():
        concrete = getattr(screen, name, None)
        assert inspect.isfunction(concrete), f"{screen.__name__} has no method {name}"
        assert typing.get_type_hints(concrete) == typing.get_type_hints(proto), (
            f"{screen.__name__}.{name} is not typed as {view.__name__}.{name}")
        assert list(inspect.signature(concrete).parameters) == list(
            inspect.signature(proto).parameters), f"{screen.__name__}.{name}'s parameters"

