"""The whole path: simulated reader on a pty → driver → conversions → LocalAccounts → session."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import argon2
import pytest

from agent.identity.accounts import LocalAccounts, hash_secret
from agent.identity.directory import AuthResult
from agent.identity.login import LoginOutcome, LoginService
from agent.identity.ratelimit import RateLimiter
from agent.identity.readers import build, chain, parse_readers, run_readers
from agent.identity.session import EndReason, Session, SessionManager
from simulator.readers import SimSerialReader

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
GINA_CODE = "2718281"


class Clock:
    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t


class CountingDirectory:
    """The real LocalAccounts, counting how many code checks reach it."""

    def __init__(self, inner: LocalAccounts) -> None:
        self.inner = inner
        self.code_checks = 0

    async def by_code(self, code: str) -> AuthResult:
        self.code_checks += 1
        return await self.inner.by_code(code)

    async def by_card(self, card: str) -> AuthResult:
        return await self.inner.by_card(card)

    async def by_card_and_pin(self, card: str, pin: str) -> AuthResult:
        return await self.inner.by_card_and_pin(card, pin)

    async def associate_card(self, code: str, card: str) -> AuthResult:
        self.code_checks += 1
        return await self.inner.associate_card(code, card)


@dataclass
class Terminal:
    sim: SimSerialReader
    login: LoginService
    directory: CountingDirectory
    clock: Clock
    outcomes: asyncio.Queue[LoginOutcome] = field(default_factory=asyncio.Queue)
    ended: asyncio.Queue[tuple[Session, EndReason]] = field(default_factory=asyncio.Queue)

    async def outcome(self) -> LoginOutcome:
        return await asyncio.wait_for(self.outcomes.get(), 5)


@pytest.fixture
async def terminal(tmp_path: Path) -> AsyncIterator[Terminal]:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(f"""
[users.gina]
display_name = "Gina"
balance = 4200
access_code_hash = "{hash_secret(GINA_CODE, FAST)}"
cards = ["0012345678"]

[users.hal]
display_name = "Hal"
balance = 15
cards = ["0000000255"]
""")
    sim = SimSerialReader("rdm6300")
    configs = parse_readers([{
        "name": "front", "kind": "serial", "path": sim.path, "baudrate": 9600,
        "framing": "stx-etx", "checksum": "xor-hex", "duplicate_s": 0,
        "conversions": ["regex:^..(.{8})$", "hex2dec:10"],
    }])
    clock = Clock()
    directory = CountingDirectory(LocalAccounts(accounts, FAST))
    term_ended: asyncio.Queue[tuple[Session, EndReason]] = asyncio.Queue()
    sessions = SessionManager("dev-9", idle_timeout_s=0.3,
                              on_end=lambda s, r: term_ended.put_nowait((s, r)))
    login = LoginService("dev-9", directory, sessions, chains={"front": chain(configs[0])},
                         limiter=RateLimiter(clock=clock), clock=clock)
    term = Terminal(sim, login, directory, clock, ended=term_ended)
    readers = [build(c) for c in configs]

    async def on_card(reader: str, card: str) -> None:
        term.outcomes.put_nowait(await login.card(reader, card))

    task = asyncio.create_task(run_readers(readers, on_card))
    await asyncio.wait_for(readers[0].ready.wait(), 5)
    yield term
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    sim.close()


async def test_swipe_logs_in_the_right_user(terminal: Terminal) -> None:
    terminal.sim.swipe("0F00BC614E")  # tag 0x00BC614E = 12345678
    out = await terminal.outcome()
    assert out.ok and out.session is not None
    assert (out.session.user, out.session.balance, out.session.method) == ("gina", 4200, "card")
    terminal.sim.swipe("01000000FF")
    out = await terminal.outcome()
    assert out.session is not None and out.session.user == "hal"
    replaced, reason = await asyncio.wait_for(terminal.ended.get(), 5)
    assert (replaced.user, reason) == ("gina", "replaced")


async def test_auto_logout_after_swipe(terminal: Terminal) -> None:
    terminal.sim.swipe("0F00BC614E")
    out = await terminal.outcome()
    assert out.session is not None
    session, reason = await asyncio.wait_for(terminal.ended.get(), 5)
    assert (session.id, reason) == (out.session.id, "timeout")
    assert terminal.login.sessions.current is None


async def test_unknown_card_is_linked_with_access_code(terminal: Terminal) -> None:
    terminal.sim.swipe("0A0000BEEF")
    ask = await terminal.outcome()
    assert (ask.ok, ask.needs) == (False, "link-code")
    linked = await terminal.login.code(GINA_CODE)
    assert linked.ok and linked.session is not None and linked.session.user == "gina"
    path = terminal.directory.inner.path
    assert 'cards = ["0012345678", "0000048879"]' in path.read_text()  # 0xBEEF = 48879
    assert GINA_CODE not in path.read_text()
    terminal.login.sessions.end()
    terminal.sim.swipe("0A0000BEEF")
    again = await terminal.outcome()
    assert again.ok and again.session is not None and again.session.user == "gina"


async def test_brute_force_is_held_to_five_checks_a_minute(terminal: Terminal) -> None:
    rng = random.Random(2024)
    refused: list[LoginOutcome] = []
    for _ in range(100):  # 100 guesses spread over one simulated minute
        out = await terminal.login.code(f"{rng.randrange(10**7):07d}")
        assert not out.ok
        if out.retry_after_s is not None:
            refused.append(out)
        terminal.clock.t += 0.59
    assert terminal.directory.code_checks <= 5
    assert len(refused) >= 95
    assert all(o.retry_after_s > 0 and o.message.startswith("Too many attempts. Try again in")
               for o in refused)
    # even the right code waits now: the limit does not tell the attacker anything
    blocked = await terminal.login.code(GINA_CODE)
    assert not blocked.ok and blocked.retry_after_s is not None
    assert terminal.directory.code_checks <= 5
    # after the backoff has passed, the owner gets in
    terminal.clock.t += blocked.retry_after_s
    assert (await terminal.login.code(GINA_CODE)).ok
