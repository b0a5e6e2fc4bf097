"""Access-code policy: what a code must look like before anyone is asked about it.

Checking the shape first saves a directory round trip (and an argon2 check) for typing
slips, and the panel can say exactly what is wrong. The messages never echo the code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodePolicy:
    min_length: int = 4
    max_length: int = 12
    digits_only: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length <= 128:
            raise ValueError("access code lengths must satisfy 1 <= min_length <= max_length "
                             "<= 128")

    def problem(self, code: str) -> str | None:
        """None when the code has an acceptable shape, else what is wrong, in plain words."""
        kind = "digits" if self.digits_only else "characters"
        if self.min_length == self.max_length:
            size = f"exactly {self.min_length} {kind}"
        else:
            size = f"{self.min_length} to {self.max_length} {kind}"
        if not self.min_length <= len(code) <= self.max_length:
            return f"An access code has {size}."
        if self.digits_only and not (code.isascii() and code.isdigit()):
            return "An access code has digits only."
        if not code.isprintable() or any(ch.isspace() for ch in code):
            return "An access code cannot contain spaces or control characters."
        return None
