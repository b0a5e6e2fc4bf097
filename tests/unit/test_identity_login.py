"""The login service over LocalAccounts: card, code, card + PIN, linking, logs, timeout."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import argon2
import pytest

from agent.identity.accounts import LocalAccounts, hash_secret
from agent.identity.conversions import parse_chain
from agent.identity.directory import AuthResult
from agent.identity.login import LoginService
from agent.identity.ratelimit import RateLimiter
from agent.identity.session import EndReason, Session, SessionManager

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CODE = "918273"


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def accounts(tmp_path: Path) -> LocalAccounts:
    path = tmp_path / "accounts.toml"
    path.write_text(f"""
[users.carol]
display_name = "Carol"
balance = 300
access_code_hash = "{hash_secret(CODE, FAST)}"
cards = ["0012345678"]
pin_hash = "{hash_secret('2468', FAST)}"
""")
    return LocalAccounts(path, FAST)


def service(accounts: LocalAccounts, **kw: object) -> LoginService:
    sessions = SessionManager("dev-1", idle_timeout_s=30)
    chains = {"rfid": parse_chain(["regex:^..(.{8})$", "hex2dec:10"])}
    return LoginService("dev-1", accounts, sessions, chains=chains, **kw)  # type: ignore[arg-type]


async def test_card_through_conversions_starts_session(accounts: LocalAccounts) -> None:
    login = service(accounts)
    out = await login.card("rfid", "0F00BC614E")  # 0x00BC614E = 12345678
    assert out.ok and out.session is not None
    assert (out.session.user, out.session.balance, out.session.method) == ("carol", 300, "card")
    assert out.message == "Welcome, Carol."
    assert login.sessions.current is out.session


async def test_unreadable_card_explained(accounts: LocalAccounts,
                                         caplog: pytest.LogCaptureFixture) -> None:
    out = await service(accounts).card("rfid", "XYZ")
    assert (out.ok, out.message) == (False, "This card could not be read. Please try again.")
    assert "could not be converted: step 'regex:^..(.{8})$'" in caplog.text


async def test_unknown_card_link_flow(accounts: LocalAccounts) -> None:
    login = service(accounts)
    ask = await login.card("raw", "NEWCARD1")
    assert (ask.ok, ask.needs) == (False, "link-code")
    assert ask.message == "This card is not known. Enter your access code to link this card."
    wrong = await login.code("000000")
    assert (wrong.ok, wrong.needs) == (False, "link-code")  # prompt stays open for a retry
    linked = await login.code(CODE)
    assert linked.ok and linked.session is not None and linked.session.user == "carol"
    login.sessions.end()
    again = await login.card("raw", "NEWCARD1")
    assert again.ok and again.session is not None and again.session.user == "carol"


async def test_link_prompt_expires(accounts: LocalAccounts) -> None:
    clock = Clock()
    login = service(accounts, clock=clock, pending_s=60)
    await login.card("raw", "LATECARD")
    clock.t += 61
    out = await login.code(CODE)  # a plain code login now, the card is not linked
    assert out.ok
    assert (await accounts.by_card("LATECARD")).failure == "unknown-card"


async def test_card_and_pin(accounts: LocalAccounts) -> None:
    login = service(accounts, card_pin=True)
    assert (await login.pin("2468")).message == "Please present your card first."
    ask = await login.card("rfid", "0F00BC614E")
    assert (ask.ok, ask.needs, ask.message) == (False, "pin", "Enter your PIN.")
    bad = await login.pin("1111")
    assert (bad.ok, bad.message) == (False, "The PIN is not correct for this card.")
    await login.card("rfid", "0F00BC614E")
    good = await login.pin("2468")
    assert good.ok and good.session is not None and good.session.method == "card+pin"


async def test_pin_guessing_is_rate_limited_per_card(accounts: LocalAccounts) -> None:
    clock = Clock()
    limiter = RateLimiter(per_window=100, free_failures=3, backoff_base_s=5, clock=clock)
    login = service(accounts, card_pin=True, limiter=limiter, clock=clock)
    for _ in range(3):
        await login.card("rfid", "0F00BC614E")
        assert (await login.pin("0000")).retry_after_s is None
        clock.t += 0.1
    await login.card("rfid", "0F00BC614E")
    refused = await login.pin("2468")
    assert not refused.ok and refused.retry_after_s == pytest.approx(4.9)


async def test_code_policy_then_directory(accounts: LocalAccounts) -> None:
    login = service(accounts)
    assert (await login.code("12")).message == "An access code has 4 to 12 digits."
    assert (await login.code("111111")).message == "This access code is not valid."
    ok = await login.code(CODE)
    assert ok.ok and ok.session is not None and ok.session.method == "code"


async def test_the_code_is_never_logged(accounts: LocalAccounts,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    login = service(accounts, card_pin=True)
    wrong = "555444"
    await login.code(wrong)
    await login.code(CODE)
    await login.card("raw", "LINKME01")
    await login.code(wrong)
    await login.code(CODE)
    await login.card("rfid", "0F00BC614E")
    await login.pin("9753")
    assert "code login failed for device dev-1: This access code is not valid." in caplog.text
    assert "PIN login failed for device dev-1, card …5678" in caplog.text
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        for secret in (CODE, wrong, "9753"):
            assert secret not in text, f"secret leaked in log: {record.getMessage()}"
    assert CODE not in accounts.path.read_text() and wrong not in accounts.path.read_text()


async def test_directory_that_does_not_answer() -> None:
    class Down:
        async def by_code(self, code: str) -> AuthResult:
            raise TimeoutError

        async def by_card(self, card: str) -> AuthResult:
            raise ConnectionRefusedError

        async def by_card_and_pin(self, card: str, pin: str) -> AuthResult:
            raise TimeoutError

        async def associate_card(self, code: str, card: str) -> AuthResult:
            raise TimeoutError

    login = LoginService("dev-1", Down(), SessionManager("dev-1"))
    for out in (await login.code("123456"), await login.card("r", "C1")):
        assert out.message == "Accounts cannot be checked right now; please try again shortly."
    assert login.limiter.check("dev-1", login.limiter.key("123456")).allowed


async def test_session_idle_timeout_and_touch() -> None:
    ended: asyncio.Queue[tuple[Session, EndReason]] = asyncio.Queue()
    sessions = SessionManager("dev-1", idle_timeout_s=0.15,
                              on_end=lambda s, r: ended.put_nowait((s, r)))
    session = sessions.start(AuthResult.success("dan", "Dan", 10), "code")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.sleep(0.1)
    sessions.touch()
    gone, reason = await asyncio.wait_for(ended.get(), timeout=2)
    assert (gone, reason, sessions.current) == (session, "timeout", None)
    assert loop.time() - started >= 0.24  # the touch pushed the timeout back
    second = sessions.start(AuthResult.success("eve", "Eve", 0), "card")
    sessions.start(AuthResult.success("fay", "Fay", 0), "card")
    assert await asyncio.wait_for(ended.get(), 1) == (second, "replaced")
    with pytest.raises(ValueError, match="successful login"):
        sessions.start(AuthResult.denied("bad-code", "no"), "code")


def _ten_users(tmp_path: Path) -> tuple[LocalAccounts, list[str]]:
    codes = [f"{700000 + 13 * i}" for i in range(10)]
    path = tmp_path / "many.toml"
    path.write_text("".join(
        f'[users.u{i}]\ndisplay_name = "U{i}"\nbalance = 100\n'
        f'access_code_hash = "{hash_secret(code, FAST)}"\n\n'
        for i, code in enumerate(codes)))
    return LocalAccounts(path, FAST), codes


async def test_ten_people_log_in_within_a_minute_at_a_busy_printer(tmp_path: Path) -> None:
    """Successes use up no attempts: the sixth person in a minute is not locked out."""
    accounts, codes = _ten_users(tmp_path)
    clock = Clock()
    login = service(accounts, limiter=RateLimiter(clock=clock), clock=clock)  # the defaults
    for i, code in enumerate(codes):
        out = await login.code(code)
        assert out.ok and out.session is not None and out.session.user == f"u{i}", out.message
        clock.t += 5.0  # ten logins in 50 s
    await login.code("000001")  # a typo at the end still gets its answer, not a lockout
    assert login.limiter.check("dev-1", login.limiter.key(codes[0])).allowed


async def test_a_guesser_gets_five_tries_a_minute_even_between_good_logins(
        tmp_path: Path) -> None:
    """A good code in between does not buy more guesses: only failures fill the window."""
    accounts, codes = _ten_users(tmp_path)
    clock = Clock()
    limiter = RateLimiter(per_window=5, window_s=60, free_failures=100, clock=clock)
    login = service(accounts, limiter=limiter, clock=clock)
    guessed = good = 0
    for n in range(40):  # 40 guesses over 40 s, a good login after each
        guessed += (await login.code(f"{100000 + n}")).retry_after_s is None
        good += (await login.code(codes[n % 10])).ok
        clock.t += 1.0
    # Five guesses reach the directory; from the fifth failure on, the device waits out the
    # minute, so the good login right after it is refused too.
    assert (guessed, good) == (5, 4)
    clock.t = 60.5  # the first failure (at 0 s) has left the window
    assert (await login.code("123123")).retry_after_s is None
