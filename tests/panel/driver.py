"""Drive the real Kivy panel like a finger would: touches at widget positions, waits on state.

Touches go through Kivy's input pipeline (Window -> ScreenManager -> ScrollView -> widget),
so hit-testing, disabled buttons and scroll views behave as on the device.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ui.app import configure_kivy
from ui.config import PanelConfig, PanelSection

SIZE = (800, 480)
configure_kivy(SIZE, fullscreen=False)

from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.input.motionevent import MotionEvent  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from ui.panel import PanelApp  # noqa: E402


class Finger(MotionEvent):
    """One touch at a window position, dispatched like an input provider's event."""

    def __init__(self, x: float, y: float) -> None:
        super().__init__("finger", id(self), {"x": x, "y": y}, is_touch=True,
                         type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx = args["x"] / (Window.width - 1)
        self.sy = args["y"] / (Window.height - 1)
        super().depack(args)


class PanelDriver:
    def __init__(self, app: PanelApp, task: asyncio.Task[None]) -> None:
        self.app = app
        self.task = task

    def screen(self, name: str) -> Any:
        return self.app.screen(name)

    async def frames(self, count: int = 2) -> None:
        target = Clock.frames_displayed + count
        await self.wait(lambda: Clock.frames_displayed >= target, 5, f"{count} frames")

    async def tap(self, widget: Widget) -> None:
        """Press and release a finger at the widget's centre, a frame apart.

        Two frames pass first: a widget added since the last frame still has Kivy's default
        position and size until its layout runs, and a finger cannot hit what is not drawn.
        """
        await self.frames(2)
        assert widget.get_root_window() is not None, f"{widget!r} is not on screen"
        x, y = widget.to_window(*widget.center)
        finger = Finger(x, y)
        EventLoop.post_dispatch_input("begin", finger)
        await self.frames(1)
        finger.move({"x": x, "y": y})
        EventLoop.post_dispatch_input("end", finger)
        await self.frames(1)

    async def wait(self, predicate: Callable[[], object], timeout: float = 10.0,
                   what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.task.done():
                self.task.result()
                raise AssertionError(f"the panel stopped while waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"panel: {what} not reached within {timeout} s "
                                     f"(screen {self.app.current_screen()!r})")
            await asyncio.sleep(0.01)

    async def wait_screen(self, name: str, timeout: float = 10.0) -> Any:
        await self.wait(lambda: self.app.current_screen() == name, timeout,
                        f"screen {name!r}")
        await self.frames(2)
        return self.screen(name)

    async def log_in(self, code: str) -> Any:
        """From idle: Enter code, the digits, OK; returns the jobs screen once loaded."""
        await self.tap(self.screen("idle").enter_code)
        keypad = await self.wait_screen("keypad")
        for digit in code:
            await self.tap(keypad.keys[digit])
        assert keypad.display.text.replace(" ", "") == "\u25cf" * len(code)
        await self.tap(keypad.ok_key)
        jobs = await self.wait_screen("jobs")
        return jobs

    async def stop(self) -> None:
        self.app.stop()
        await asyncio.wait_for(self.task, 10)
        await self.app.controller.close()
        for child in Window.children[:]:
            Window.remove_widget(child)


async def start_panel(socket_path: str, hidden: list[str] | None = None) -> PanelDriver:
    """Start the panel app on the running loop and wait until it mirrors the agent."""
    Window.create_window()  # the previous test's app closed it
    Window.register()
    Window.initialized = True
    Window.canvas.clear()
    config = PanelConfig(socket=socket_path, panel=PanelSection(hidden=hidden or []))
    app = PanelApp(config, SIZE)
    task = asyncio.get_running_loop().create_task(app.async_run(async_lib="asyncio"))
    driver = PanelDriver(app, task)
    await driver.wait(lambda: app.root is not None, 15, "the panel to start")
    await driver.wait(lambda: app.controller.client is not None, 15, "the agent connection")
    await driver.wait(lambda: app.idle_screen().printer_state.text != "Starting up, please wait",
                      15, "the printer status")
    await driver.frames(2)  # laid out, so taps land where the widgets are drawn
    return driver
