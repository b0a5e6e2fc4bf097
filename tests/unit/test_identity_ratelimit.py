"""Code policy and the per-device / per-code rate limiter with an injected clock."""

from __future__ import annotations

import pytest

from agent.identity.policy import CodePolicy
from agent.identity.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_policy_messages_never_echo_the_code() -> None:
    p = CodePolicy(min_length=4, max_length=8)
    assert p.problem("1234") is None
    assert p.problem("12") == "An access code has 4 to 8 digits."
    assert p.problem("12a4") == "An access code has digits only."
    assert CodePolicy(6, 6).problem("12345") == "An access code has exactly 6 digits."
    assert CodePolicy(4, 8, digits_only=False).problem("ab c") == \
        "An access code cannot contain spaces or control characters."
    with pytest.raises(ValueError, match="min_length"):
        CodePolicy(5, 4)


def test_five_tries_per_minute_per_device() -> None:
    clock = Clock()
    rl = RateLimiter(per_window=5, window_s=60, free_failures=100, clock=clock)
    for i in range(5):
        assert rl.check("dev", rl.key(f"c{i}")).allowed
        rl.record("dev", rl.key(f"c{i}"), ok=False)
        clock.t += 1
    refused = rl.check("dev", rl.key("c9"))
    assert not refused.allowed and refused.wait_s == pytest.approx(55.0)
    assert refused.message == "Too many attempts. Try again in 55 seconds."
    assert rl.check("other-device", rl.key("c9")).allowed
    clock.t += 55.0
    assert rl.check("dev", rl.key("c9")).allowed


def test_backoff_doubles_after_free_failures_and_resets_on_success() -> None:
    clock = Clock()
    rl = RateLimiter(per_window=1000, free_failures=2, backoff_base_s=2, backoff_max_s=16,
                     clock=clock)
    k = rl.key("0000")
    waits = []
    for _ in range(7):
        d = rl.check("dev", k)
        clock.t += d.wait_s
        assert rl.check("dev", k).allowed
        rl.record("dev", k, ok=False)
        waits.append(rl.check("dev", k).wait_s)
    assert waits == [0, 2, 4, 8, 16, 16, 16]
    rl.record("dev", k, ok=True)
    assert rl.check("dev", k).allowed


def test_per_code_backoff_follows_the_code_across_devices() -> None:
    clock = Clock()
    rl = RateLimiter(per_window=1000, free_failures=1, backoff_base_s=10, clock=clock)
    k = rl.key("4711")
    rl.record("a", k, ok=False)
    rl.record("b", k, ok=False)
    d = rl.check("c", k)  # a fresh device, but this code has failed twice
    assert not d.allowed and d.wait_s == pytest.approx(20.0)  # 10 s, doubled
    assert rl.check("c", rl.key("4712")).allowed


def test_keys_are_keyed_hashes_never_the_code() -> None:
    a, b = RateLimiter(), RateLimiter()
    assert a.key("1234") != "1234" and "1234" not in a.key("1234")
    assert a.key("1234") != b.key("1234")  # the key lives only in this process's memory


def test_key_table_stays_bounded() -> None:
    clock = Clock()
    rl = RateLimiter(per_window=10**9, free_failures=0, max_keys=50, clock=clock)
    for i in range(500):
        rl.record("dev", rl.key(str(i)), ok=False)
        clock.t += 0.01
    assert len(rl._keys) <= 50
