"""Build attributes with the right value tag, so callers never spell tag numbers."""

from __future__ import annotations

from datetime import datetime

from drivers.ipp.message import IntRange, IppAttribute, LangString, Resolution
from drivers.ipp.tags import ValueTag


def integer(attr_name: str, *values: int) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.INTEGER, list(values))


def enum(attr_name: str, *values: int) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.ENUM, [int(v) for v in values])


def boolean(attr_name: str, *values: bool) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.BOOLEAN, list(values))


def keyword(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.KEYWORD, list(values))


def name(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.NAME, list(values))


def text(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.TEXT, list(values))


def uri(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.URI, list(values))


def uri_scheme(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.URI_SCHEME, list(values))


def charset(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.CHARSET, list(values))


def language(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.NATURAL_LANGUAGE, list(values))


def mime_type(attr_name: str, *values: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.MIME_MEDIA_TYPE, list(values))


def octets(attr_name: str, *values: bytes) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.OCTET_STRING, list(values))


def date_time(attr_name: str, *values: datetime) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.DATE_TIME, list(values))


def resolution(attr_name: str, *values: Resolution) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.RESOLUTION, list(values))


def int_range(attr_name: str, *values: tuple[int, int]) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.RANGE_OF_INTEGER, [IntRange(*v) for v in values])


def text_lang(attr_name: str, *values: LangString) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.TEXT_WITH_LANGUAGE, list(values))


def name_lang(attr_name: str, *values: LangString) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.NAME_WITH_LANGUAGE, list(values))


def collection(attr_name: str, *members: list[IppAttribute]) -> IppAttribute:
    """One collection value per list of member attributes."""
    return IppAttribute(attr_name, ValueTag.BEG_COLLECTION,
                        [{m.name: m for m in value} for value in members])


def no_value(attr_name: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.NO_VALUE, [None])


def unknown(attr_name: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.UNKNOWN, [None])


def unsupported(attr_name: str) -> IppAttribute:
    return IppAttribute(attr_name, ValueTag.UNSUPPORTED, [None])
