"""The seam between login and whoever knows the accounts (central over MQTT, a local file).

Implementations answer in plain words and never see more than they need: the access code
or PIN goes in, is checked against a hash, and is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

#: Why an answer was "no", for the login flow to act on (the words are in `reason`).
Failure = Literal[
    "unknown-card",   # no account has this card: offer to link it with an access code
    "bad-code",       # no account has this access code
    "bad-pin",        # the card is known but the PIN is wrong or not set
    "card-taken",     # linking refused: the card belongs to another account
    "unavailable",    # the directory could not answer (central unreachable, file broken)
]


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    user: str | None = None
    display_name: str | None = None
    balance: int | None = None  # integer minor units
    reason: str | None = None   # plain words, safe to show and to log
    offline: bool = False       # answered from the offline cache, not by central
    failure: Failure | None = None

    @classmethod
    def success(cls, user: str, display_name: str, balance: int, *,
                offline: bool = False) -> AuthResult:
        return cls(True, user, display_name, balance, None, offline)

    @classmethod
    def denied(cls, failure: Failure, reason: str, *, offline: bool = False) -> AuthResult:
        return cls(False, reason=reason, offline=offline, failure=failure)


class AccountDirectory(Protocol):
    """Looks people up by access code, card, or card + PIN, and links cards to accounts."""

    async def by_code(self, code: str) -> AuthResult: ...

    async def by_card(self, card: str) -> AuthResult: ...

    async def by_card_and_pin(self, card: str, pin: str) -> AuthResult: ...

    async def associate_card(self, code: str, card: str) -> AuthResult: ...
