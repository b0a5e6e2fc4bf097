"""Enrolment over MQTT: a new device trades its one-time token for its own broker account.

The device picks its own password and sends only its Mosquitto hash (`$7$`, PBKDF2-SHA512),
so no password ever crosses the wire or sits at central. It connects as the shared `enrol`
user, which may only write requests and read answers; the answers carry no secret.

    pagetally/enrol/v1/{site}/{device}/req   device → central   EnrolRequest
    pagetally/enrol/v1/{site}/{device}/res   central → device   EnrolResponse
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from contract.topics import LEVEL_PATTERN

ENROL_ROOT = "pagetally/enrol/v1"
ENROL_SUBSCRIPTION = f"$share/central/{ENROL_ROOT}/+/+/req"
_TOPIC = re.compile(rf"^{ENROL_ROOT}/(?P<site>{LEVEL_PATTERN})/(?P<device>{LEVEL_PATTERN})/req$")


class EnrolRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    token: str
    password_hash: str  # Mosquitto password-file format: $7$iterations$salt$hash


class EnrolResponse(msgspec.Struct, frozen=True):
    status: Literal["enrolled", "refused"]
    reason: str = ""


def enrol_topic(site: str, device: str, kind: Literal["req", "res"]) -> str:
    return f"{ENROL_ROOT}/{site}/{device}/{kind}"


def parse_enrol_topic(topic: str) -> tuple[str, str] | None:
    """(site, device) of a request topic, or None for anything else."""
    m = _TOPIC.match(topic)
    return (m["site"], m["device"]) if m else None
