"""One-time enrolment tokens: the plain token goes into one device's seed, only its
SHA-256 goes to central (`pagetally central enrol import`). 256 random bits need no slow
hash: nobody can guess one from its digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    site: str
    device: str
    plain: str
    expires: dt.datetime

    @property
    def digest(self) -> str:
        return digest(self.plain)

    def record(self) -> str:
        """One line of the import file: no secret in it."""
        return json.dumps({"site": self.site, "device": self.device, "sha256": self.digest,
                           "expires": self.expires.isoformat()})


def digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def new_token(site: str, device: str, now: dt.datetime, ttl_hours: int) -> Token:
    return Token(site, device, secrets.token_urlsafe(32), now + dt.timedelta(hours=ttl_hours))
