"""The IPP message model: groups of named attributes whose values keep their tags.

Plain data shared by the codec, the client and the simulator; decoding and encoding live in
drivers.ipp.codec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Union

from drivers.ipp.tags import GroupTag


class Resolution(NamedTuple):
    x: int
    y: int
    units: int = 3  # 3 = dots per inch, 4 = dots per centimetre


class IntRange(NamedTuple):
    lower: int
    upper: int


class LangString(NamedTuple):
    """textWithLanguage / nameWithLanguage."""

    text: str
    language: str


@dataclass(frozen=True)
class Tagged:
    """A value in a 1setOf whose tag differs from the first value's (e.g. keyword|name)."""

    tag: int
    value: Value


@dataclass
class IppAttribute:
    """One attribute: its name, the tag of its first value, and its values in order.

    Out-of-band values (no-value, unknown, unsupported) are None; collections are
    dict[str, IppAttribute] keyed by member name.
    """

    name: str
    tag: int
    values: list[Value] = field(default_factory=list)

    @property
    def value(self) -> Value:
        """The first value (None when there is none)."""
        return self.values[0] if self.values else None

    def add(self, tag: int, value: Value) -> None:
        if not self.values:
            self.tag = tag
        self.values.append(value if tag == self.tag else Tagged(tag, value))


Value = Union[  # noqa: UP007 - a runtime alias needs Union for the forward reference
    int, bool, bytes, str, datetime, Resolution, IntRange, LangString,
    dict[str, IppAttribute], Tagged, None,
]


@dataclass
class IppGroup:
    """An attribute group (operation, job, printer, unsupported, ...), attributes in order."""

    tag: int
    attributes: dict[str, IppAttribute] = field(default_factory=dict)

    def add(self, *attrs: IppAttribute) -> IppGroup:
        for attr in attrs:
            self.attributes[attr.name] = attr
        return self

    def get(self, name: str) -> IppAttribute | None:
        return self.attributes.get(name)

    def value(self, name: str) -> Value:
        attr = self.attributes.get(name)
        return None if attr is None else attr.value

    def __contains__(self, name: object) -> bool:
        return name in self.attributes


@dataclass(frozen=True)
class DecodeProblem:
    """Something wrong with one attribute of a decoded message, and where it was."""

    attribute: str
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"attribute {self.attribute!r} at byte {self.offset}: {self.reason}"


@dataclass
class IppMessage:
    """A request or response: version, operation-id or status-code, groups, document data.

    `problems` names attributes left out because their value was malformed; `notes` names
    values read in spite of a fault (text that was not UTF-8)."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: list[IppGroup] = field(default_factory=list)
    data: bytes = b""
    problems: list[DecodeProblem] = field(default_factory=list)
    notes: list[DecodeProblem] = field(default_factory=list)

    def group(self, tag: int) -> IppGroup | None:
        """The first group with this tag."""
        return next((g for g in self.groups if g.tag == tag), None)

    def groups_of(self, tag: int) -> list[IppGroup]:
        return [g for g in self.groups if g.tag == tag]

    @property
    def operation(self) -> IppGroup:
        """The operation-attributes group (an empty one when absent)."""
        return self.group(GroupTag.OPERATION) or IppGroup(GroupTag.OPERATION)
