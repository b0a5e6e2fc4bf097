"""Per-printer price tables: what a job costs, in integer minor units.

A table holds a per-impression price for mono/colour × simplex/duplex per media size, with a
`default` media used for any size it does not list, and an optional fee per job. An empty
table (no media at all) is a free printer: every job costs 0. A job whose pages cannot be
counted is held for a deposit instead of its price.
"""

from __future__ import annotations

import re

import msgspec

DEFAULT_MEDIA = "default"
DEPOSIT_IMPRESSIONS = 10
"""Without `uncounted_deposit`, a job of unknown size holds the price of this many impressions
of its kind: a sum in the printer's own currency and price level, and 0 on a free printer."""

# PWG 5101.1 self-describing media names: class_size-name_dimensions ('iso_a4_210x297mm').
_PWG_MEDIA = re.compile(r"[a-z0-9]+_([a-z0-9.\-]+)_[0-9.]+x[0-9.]+(mm|in)")


class MediaPrices(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Prices per impression for one media size. A missing price falls back to a sibling:
    mono_duplex to mono_simplex, color_simplex to mono_simplex, color_duplex to color_simplex.
    """

    mono_simplex: int = 0
    mono_duplex: int | None = None
    color_simplex: int | None = None
    color_duplex: int | None = None

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")

    def per_impression(self, *, color: bool, duplex: bool) -> int:
        """The price of one impression, with the documented fallbacks applied."""
        if color:
            simplex = self.mono_simplex if self.color_simplex is None else self.color_simplex
            if duplex and self.color_duplex is not None:
                return self.color_duplex
            return simplex
        if duplex and self.mono_duplex is not None:
            return self.mono_duplex
        return self.mono_simplex


class PriceTable(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One printer's prices. `media` maps a media key ('a4', 'letter', 'default') to prices."""

    media: dict[str, MediaPrices] = {}
    job_fee: int = 0
    uncounted_deposit: int | None = None

    def __post_init__(self) -> None:
        if self.job_fee < 0:
            raise ValueError("job_fee must not be negative")
        if self.uncounted_deposit is not None and self.uncounted_deposit < 0:
            raise ValueError("uncounted_deposit must not be negative")
        if self.media and DEFAULT_MEDIA not in self.media:
            raise ValueError(
                "media needs a 'default' entry, used for sizes the table does not list"
            )
        for key in self.media:
            if key != media_key(key):
                raise ValueError(f"media name {key!r} must be lower case, like 'a4'")

    @property
    def free(self) -> bool:
        """True when no price is set, so the printer charges nothing."""
        return not self.media and self.job_fee == 0 and not self.uncounted_deposit

    def prices_for(self, media: str | None) -> MediaPrices | None:
        """The prices for this media, the default ones, or None for a free printer."""
        if not self.media:
            return None
        if media is not None:
            found = self.media.get(media_key(media))
            if found is not None:
                return found
        return self.media[DEFAULT_MEDIA]

    def cost(self, impressions: int, *, color: bool, duplex: bool, media: str | None) -> int:
        """Cost of a job of `impressions` sides; the job fee applies only if something printed."""
        if impressions < 0:
            raise ValueError(f"impressions cannot be negative, got {impressions}")
        if impressions == 0:
            return 0
        prices = self.prices_for(media)
        per_page = 0 if prices is None else prices.per_impression(color=color, duplex=duplex)
        return impressions * per_page + self.job_fee

    def deposit(self, *, color: bool, duplex: bool, media: str | None) -> int:
        """What a job holds when its pages cannot be counted: `uncounted_deposit`, or else the
        price of DEPOSIT_IMPRESSIONS impressions of its kind. Pricing such a job at 0 let it
        pass every credit check (issue 10)."""
        if self.uncounted_deposit is not None:
            return self.uncounted_deposit
        return self.cost(DEPOSIT_IMPRESSIONS, color=color, duplex=duplex, media=media)


def media_key(name: str) -> str:
    """The short key of an IPP media name: 'iso_a4_210x297mm' -> 'a4', 'Letter' -> 'letter'."""
    lowered = name.strip().lower()
    match = _PWG_MEDIA.fullmatch(lowered)
    return match.group(1) if match else lowered
