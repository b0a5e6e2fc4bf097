"""Refusals: what a printer refused alone is remembered; what it refused wholesale is not."""

from __future__ import annotations

from drivers.snmp.refusals import Refusals

A, B = (1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1)


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_refused_alone_is_remembered_until_the_recheck_and_forgotten_once_answered() -> None:
    clock = Clock()
    refusals = Refusals(recheck_s=10, clock=clock)
    refusals.note({A: 1}, {B: "printer refused it"})
    assert B in refusals and A not in refusals and not refusals.due()
    assert refusals.reasons([A, B]) == {B: "printer refused it"}
    clock.now += 10
    assert refusals.due()
    refusals.asked()
    assert not refusals.due()
    refusals.note({B: 2}, {})
    assert len(refusals) == 0 and not refusals.due()


def test_a_printer_refusing_everything_is_asked_for_everything_again() -> None:
    refusals = Refusals(clock=Clock())
    refusals.note({}, {A: "printer refused it", B: "printer refused it"})
    assert len(refusals) == 0


def test_sysuptime_going_back_makes_the_recheck_due_at_once() -> None:
    refusals = Refusals(recheck_s=600, clock=Clock())
    refusals.note({A: 1}, {B: "printer refused it"})
    assert not refusals.uptime(5000)
    assert not refusals.uptime(None)  # not reported this time: says nothing about a restart
    assert not refusals.uptime(6000)
    assert not refusals.due()
    assert refusals.uptime(300)
    assert refusals.due()
