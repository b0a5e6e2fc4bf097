"""What the local API's methods accept, as msgspec Structs.

Strict on purpose: a field of the wrong type, a missing one or one the method does not know is
refused with the field's name, before any handler runs. docs/api.md documents each Struct and
tests/unit/test_api_docs.py keeps the two the same.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Card = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
JobId = Annotated[int, msgspec.Meta(ge=0)]


class Params(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every method's params: unknown fields are an error, not ignored."""


class NoParams(Params):
    """Methods that take nothing: `{}` (or no params at all)."""


class LoginParams(Params):
    """Exactly one of `code` (typed on the keypad), `card` (a reader's raw string) or `pin`
    (the PIN a card asked for); `reader` names the reader whose conversions the card gets."""

    code: Code | None = None
    card: Card | None = None
    pin: Code | None = None
    reader: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "panel"

    def __post_init__(self) -> None:
        given = [f for f in ("code", "card", "pin") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'code', 'card' or 'pin'")


class ReleaseParams(Params):
    """The held jobs to release by queue id, or `all` of them."""

    ids: list[JobId] | None = None
    all: bool = False

    def __post_init__(self) -> None:
        if (self.ids is None) == (not self.all):
            raise ValueError("give either 'ids' or \"all\": true")


class DeleteParams(Params):
    """The held jobs to delete by queue id."""

    ids: list[JobId]


class JobKeyParams(Params):
    """One released job, by the key `jobs.release` answered."""

    job_key: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
