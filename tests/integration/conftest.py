"""Integration fixtures: a private CUPS scheduler and ippeveprinter as outside peers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cups import CUPSD, Cupsd, CupsError, start_cupsd
from tests.ippeveprinter import IPPEVEPRINTER, IppEvePrinter, start_ippeveprinter

_queue_numbers = itertools.count(1)


@dataclass(frozen=True)
class CupsQueue:
    """A queue on the private scheduler: its name and its IPP printer URI."""

    name: str
    uri: str


AddQueue = Callable[..., CupsQueue]


@pytest.fixture(scope="session")
def cupsd() -> Iterator[Cupsd]:
    """One private scheduler for the session; each test makes its own uniquely named queues."""
    if not Path(CUPSD).exists():
        pytest.fail("cupsd is not installed: run ./dev test as root, or apt-get install cups "
                    "cups-client cups-filters")
    scheduler = start_cupsd()
    yield scheduler
    scheduler.cleanup()


@pytest.fixture
def cups_queue(cupsd: Cupsd) -> Iterator[AddQueue]:
    """`cups_queue(device_uri, hold=False, model="everywhere")` adds a queue; removed after."""
    made: list[str] = []

    def add(device_uri: str, *, hold: bool = False, model: str = "everywhere") -> CupsQueue:
        name = f"pt{next(_queue_numbers)}{'_hold' if hold else ''}"
        uri = cupsd.add_queue(name, device_uri, model=model, hold=hold)
        made.append(name)
        return CupsQueue(name, uri)

    yield add
    for name in made:
        try:
            cupsd.run("lpadmin", "-h", cupsd.host, "-x", name)
        except CupsError as exc:
            # A queue left behind only costs disk in the session's temp dir; say so and go on.
            print(f"could not remove CUPS queue {name}: {exc}")


@pytest.fixture
def ippeveprinter() -> Iterator[IppEvePrinter]:
    """CUPS's reference IPP printer on a free port, with a private D-Bus."""
    if not Path(IPPEVEPRINTER).exists():
        pytest.fail("ippeveprinter is not installed: apt-get install cups-ipp-utils")
    printer = start_ippeveprinter()
    yield printer
    printer.stop()
