"""Topic names of MQTT contract v1: build them in one place, parse them strictly.

Every topic is `pagetally/v1/{site}/{device}/{kind}`. Site and device are single topic levels
made of letters, digits, `-`, `_` and `.`, so they can never smuggle a `/`, `+` or `#` into a
subscription or an ACL pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ROOT = "pagetally/v1"
Kind = Literal["txn", "txns", "ack", "status", "printer", "rpc/req", "rpc/res", "resend"]
KINDS: tuple[Kind, ...] = ("txn", "txns", "ack", "status", "printer", "rpc/req", "rpc/res",
                           "resend")

#: Central's own status lives under this reserved site; devices must not use it.
CENTRAL_SITE = "_central"
#: Shared subscription that spreads txns over every central instance in group "central".
TXN_SHARED_SUBSCRIPTION = f"$share/central/{ROOT}/+/+/txn"
#: The same for batched txns (contract v1.2), in the same group.
TXN_BATCH_SHARED_SUBSCRIPTION = f"$share/central/{ROOT}/+/+/txns"
#: Central answers every device's requests; shared too so only one instance answers.
RPC_SHARED_SUBSCRIPTION = f"$share/central/{ROOT}/+/+/rpc/req"
#: Every central instance's retained status, which devices read to learn whether an online
#: instance takes batched txns (contract v1.2).
CENTRAL_STATUS_SUBSCRIPTION = f"{ROOT}/{CENTRAL_SITE}/+/status"
#: Central's retained request that every device send its txns since a time again (v1.2).
RESEND_TOPIC = f"{ROOT}/{CENTRAL_SITE}/ledger/resend"
#: Every device's retained status; NOT shared: each central instance must know which
#: devices read batched acks (contract v1.1).
STATUS_SUBSCRIPTION = f"{ROOT}/+/+/status"

LEVEL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_LEVEL = re.compile(LEVEL_PATTERN)


class TopicError(ValueError):
    """A topic or a topic level that is not part of contract v1."""


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed contract topic."""

    site: str
    device: str
    kind: Kind

    def __str__(self) -> str:
        return topic(self.site, self.device, self.kind)


def check_level(name: str, what: str) -> str:
    """Return `name` if it is a valid site or device id, else raise TopicError in plain words."""
    if not _LEVEL.fullmatch(name):
        raise TopicError(
            f"{what} id {name!r} is not allowed: use 1 to 64 letters, digits, '.', '-' or '_',"
            " starting with a letter or digit"
        )
    return name


def topic(site: str, device: str, kind: Kind) -> str:
    """The topic for one device and one message kind."""
    if kind not in KINDS:
        raise TopicError(f"unknown message kind {kind!r}; expected one of {', '.join(KINDS)}")
    if site != CENTRAL_SITE:
        check_level(site, "site")
    return f"{ROOT}/{site}/{check_level(device, 'device')}/{kind}"


def device_root(site: str, device: str) -> str:
    """`pagetally/v1/{site}/{device}`: everything a device may publish lives below it."""
    return f"{ROOT}/{check_level(site, 'site')}/{check_level(device, 'device')}"


def central_status_topic(instance: str) -> str:
    """Where a central instance announces itself (retained, with a last will)."""
    return topic(CENTRAL_SITE, instance, "status")


def parse_topic(name: str) -> Topic:
    """Split a topic into site, device and kind; raise TopicError if it is not a v1 topic."""
    prefix = ROOT + "/"
    if not name.startswith(prefix):
        raise TopicError(f"topic {name!r} does not start with {prefix!r}")
    parts = name[len(prefix):].split("/", 2)
    if len(parts) != 3:
        raise TopicError(f"topic {name!r} lacks a site, a device or a message kind")
    site, device, kind = parts
    if kind not in KINDS:
        raise TopicError(f"topic {name!r} ends in {kind!r}, which is not a v1 message kind")
    if site != CENTRAL_SITE:
        check_level(site, "site")
    check_level(device, "device")
    return Topic(site, device, kind)
