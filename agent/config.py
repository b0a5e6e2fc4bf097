"""Load `agent.toml` (and the standalone accounts file) into typed, checked structs.

Every error names the file, the section and the key, in words a site admin can act on:
"agent.toml: [printer] snmp_port: expected an integer, got 'abc'". Money in the config is
written in major units ("0.10" or 0.10) and becomes integer minor units here.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from agent.config_models import AgentConfig
from agent.money import MoneyError, exponent, parse_money
from agent.pricing import MediaPrices

T = TypeVar("T", bound=msgspec.Struct)
PathToken = str | int

# Paths of relative file names, resolved against the config file's folder.
_FILE_KEYS = (
    ("ledger", "path"), ("api", "socket"), ("accounts", "file"), ("mqtt", "password_file"),
    ("mqtt", "ca_file"), ("mqtt", "cert_file"), ("mqtt", "key_file"),
    ("identity", "offline_cache"),
)  # fmt: skip
_KINDS = {
    "int": "an integer", "float": "a number", "str": "text in quotes", "bool": "true or false",
    "array": "a list", "object": "a table", "null": "nothing",
}  # fmt: skip
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


class ConfigError(Exception):
    """A config file that cannot be used, with file, key and reason in plain words."""


def load_config(path: str | Path) -> AgentConfig:
    """Read, check and type `agent.toml`. Relative file names are relative to its folder."""
    where = str(path)
    config = config_from_dict(_read_toml(Path(path)), where)
    return _resolve_files(config, Path(path).resolve().parent)


def config_from_dict(data: dict[str, Any], where: str) -> AgentConfig:
    """Check already-parsed TOML; `where` names the source in errors."""
    data = dict(data)
    currency = _currency(data, where)
    if "prices" in data:
        data["prices"] = _prices(data["prices"], currency, where)
    copier = data.get("copier")
    if isinstance(copier, dict) and isinstance(copier.get("prices"), dict):
        data["copier"] = {**copier, "prices": {
            key: _money(value, currency, where, ["copier", "prices", key])
            for key, value in copier["prices"].items()}}
    identity = data.get("identity")
    if isinstance(identity, dict) and "offline_credit" in identity:
        identity = dict(identity)
        identity["offline_credit"] = _money(
            identity["offline_credit"], currency, where, ["identity", "offline_credit"]
        )
        data["identity"] = identity
    config = _convert(data, AgentConfig, where)
    _check_readers(config, where)
    return config


def mqtt_password(config: AgentConfig) -> str | None:
    """The broker password from `[mqtt] password_file` (never kept in agent.toml itself)."""
    if not config.mqtt.password_file:
        return None
    path = Path(config.mqtt.password_file)
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"[mqtt] password_file: cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"[mqtt] password_file: {path} is not UTF-8 text") from exc


def _check_readers(config: AgentConfig, where: str) -> None:
    """[[readers]] are checked by the identity package, which knows the reader drivers."""
    if not config.readers:
        return
    # Imported here so that loading a config without readers never loads the drivers.
    from agent.identity.readers import ReaderConfig, ReaderConfigError, parse_readers

    try:
        parse_readers(config.readers)
    except ReaderConfigError as exc:
        cause = exc.__cause__
        if isinstance(cause, msgspec.ValidationError):
            message = _explain(cause, config.readers, list[ReaderConfig], where, ["readers"])
            raise ConfigError(message) from exc
        raise ConfigError(f"{where}: [[readers]] {exc}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (bad byte at position {exc.start})") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _currency(data: dict[str, Any], where: str) -> str:
    device = data.get("device")
    currency = device.get("currency", "EUR") if isinstance(device, dict) else "EUR"
    try:
        exponent(currency if isinstance(currency, str) else repr(currency))
    except MoneyError as exc:
        raise ConfigError(f"{where}: [device] currency: {exc}") from exc
    return currency


def _prices(prices: Any, currency: str, where: str) -> Any:
    """Turn every money value under [prices] into minor units, naming the key on error."""
    if not isinstance(prices, dict):
        return prices  # msgspec reports the wrong type
    prices = dict(prices)
    for key in ("job_fee", "uncounted_deposit"):
        if key in prices:
            prices[key] = _money(prices[key], currency, where, ["prices", key])
    media = prices.get("media")
    if isinstance(media, dict):
        converted: dict[str, Any] = {}
        for name, table in media.items():
            at: list[PathToken] = ["prices", "media", name]
            if not isinstance(table, dict):
                raise ConfigError(f"{_location(where, at)} must be a table of prices")
            table = {
                key: _money(value, currency, where, [*at, key])
                if key in MediaPrices.__struct_fields__ else value
                for key, value in table.items()
            }  # fmt: skip
            _convert(table, MediaPrices, where, prefix=at)  # errors inside one media, named
            converted[name] = table
        prices["media"] = converted
    return prices


def _money(value: Any, currency: str, where: str, at: list[PathToken]) -> int:
    try:
        return parse_money(value, currency)
    except MoneyError as exc:
        raise ConfigError(f"{_location(where, at[:-1], at[-1])}: {exc}") from exc


def _convert(data: Any, kind: type[T], where: str, prefix: list[PathToken] | None = None) -> T:
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(exc, data, kind, where, prefix or [])) from exc


def _explain(
    exc: msgspec.ValidationError, data: Any, kind: type, where: str, prefix: list[PathToken]
) -> str:
    """msgspec's 'Expected `int`, got `str` - at `$.a.b`' -> 'f: [a] b: expected ..., got ...'."""
    match = _AT.match(str(exc))
    message = match.group("message") if match else str(exc)
    path = _parse_path(match.group("path") or "") if match else []
    full = [*prefix, *path]
    if found := re.fullmatch(r"Object contains unknown field `(.+)`", message):
        key = found.group(1)
        close = difflib.get_close_matches(key, _fields_at(kind, path), n=1)
        if not full:
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            return f"{where}: unknown section [{key}]{hint}"
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{_location(where, full)} unknown key {key!r}{hint}"
    if found := re.fullmatch(r"Object missing required field `(.+)`", message):
        key = found.group(1)
        if not full:
            return f"{where}: section [{key}] is required"
        return f"{_location(where, full, key)} is required"
    if not full:
        return f"{where}: {message}"
    value = _show(_value_at(data, path))
    at = _location(where, full[:-1], full[-1])
    if message.startswith("Invalid enum value"):
        return f"{at}: expected one of {_choices_at(kind, path)}, got {value}"
    typed = re.fullmatch(r"Expected `([^`]+)`(?:, got `[^`]+`| (.+))", message)
    if typed is None:
        return f"{_location(where, full)} {message}"
    if typed.group(2):
        return f"{at}: must be {typed.group(2)}, got {value}"
    return f"{at}: expected {_kind(typed.group(1))}, got {value}"


def _location(where: str, section: list[PathToken], key: PathToken | None = None) -> str:
    """'f', ['printer'], 'snmp_port' -> 'f: [printer] snmp_port'; ['users', 0] -> [[users]] #1."""
    if not section and isinstance(key, str):
        section, key = [key], None
    name = ""
    for token in section:
        if isinstance(token, int):
            name = f"[[{name}]] #{token + 1}"
        elif name.startswith("[["):
            name = f"{name} {token}"
        else:
            name = f"{name}.{token}" if name else token
    if name and not name.startswith("[["):
        name = f"[{name}]"
    text = f"{where}: {name}" if name else where
    if key is None:
        return text
    return f"{text} {key}" if isinstance(key, str) else f"{text} item {key + 1}"


def _parse_path(text: str) -> list[PathToken]:
    tokens: list[PathToken] = []
    for name, index in _PATH_TOKEN.findall(text):
        if name:
            tokens.append(name)
        elif index != "...":
            tokens.append(int(index))
    return tokens


def _value_at(data: Any, path: list[PathToken]) -> Any:
    for token in path:
        if isinstance(data, list) and isinstance(token, int) and token < len(data):
            data = data[token]
            continue
        if not (isinstance(data, dict) and isinstance(token, str) and token in data):
            return None
        data = data[token]
    return data


def _type_at(kind: Any, path: list[PathToken]) -> Any:
    """The declared type at a path, following struct fields and list items."""
    for token in path:
        kind = _unwrap(kind)
        if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(token, str):
            kind = typing.get_type_hints(kind, include_extras=True).get(token)
        elif typing.get_origin(kind) in (list, dict):
            kind = typing.get_args(kind)[-1]
        else:
            return None
    return _unwrap(kind)


def _unwrap(kind: Any) -> Any:
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    return kind


def _fields_at(kind: type, path: list[PathToken]) -> tuple[str, ...]:
    found = _type_at(kind, path)
    if isinstance(found, type) and issubclass(found, msgspec.Struct):
        return found.__struct_fields__
    return ()


def _choices_at(kind: type, path: list[PathToken]) -> str:
    found = _type_at(kind, path)
    if typing.get_origin(found) is typing.Literal:
        return ", ".join(repr(choice) for choice in typing.get_args(found))
    return "the documented values"


def _kind(spec: str) -> str:
    kinds = [_KINDS.get(part.strip(), part.strip()) for part in spec.split("|")]
    return " or ".join(kinds)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _resolve_files(config: AgentConfig, base: Path) -> AgentConfig:
    """Relative file names in the config are relative to the config file, not the cwd."""
    sections: dict[str, msgspec.Struct] = {}
    for section_name, key in _FILE_KEYS:
        section = sections.get(section_name, getattr(config, section_name))
        value = getattr(section, key)
        if value and not Path(value).is_absolute():
            section = msgspec.structs.replace(section, **{key: str(base / value)})
        sections[section_name] = section
    return msgspec.structs.replace(config, **sections)
