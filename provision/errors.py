"""Plain-words errors of the provisioning tool (the CLI prints them and exits 2)."""

from __future__ import annotations

import re

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_SAFE_WORDS = ("1-64 letters, digits, '.', '_' or '-' (it goes into MQTT topics and host "
               "names)")
_WORDS = {"int": "an integer", "str": "text in quotes", "bool": "true or false",
          "array": "a list", "object": "a table", "float": "a number"}


class ProvisionError(Exception):
    """Anything the technician must fix before provisioning can go on."""


class ToolMissing(ProvisionError):
    """An outside program (mtools, ...) is not installed."""


def where(path: str) -> str:
    """`$.broker.port` → `[broker] port`; `$.device[1].id` → `device #2 id`."""
    tokens = [(name, int(index)) if index else (name, None)
              for name, index in _TOKEN.findall(path)]
    words: list[str] = []
    for name, index in tokens:
        if index is not None:
            words[-1] = f"{words[-1]} #{index + 1}" if words else f"#{index + 1}"
        else:
            words.append(name)
    if len(words) == 1 and "#" not in words[0]:
        return f"[{words[0]}]"
    if len(words) >= 2 and "#" not in words[0]:
        return f"[{words[0]}] " + ".".join(words[1:])
    return " ".join(words) if words else "(top level)"


def plain(source: str, message: str) -> str:
    """A msgspec validation message made readable: the file, the key, what was expected."""
    match = _AT.match(message)
    assert match is not None
    text, path = match["message"], match["path"] or ""
    for kind, words in _WORDS.items():
        text = text.replace(f"`{kind}`", words)
    text = text.replace("Expected", "expected").replace("Object contains unknown field",
                                                         "unknown key")
    text = text.replace("Object missing required field", "missing required key")
    text = text.replace("Invalid enum value", "not an allowed value:")
    text = text.replace(f"text in quotes matching regex '{SAFE_NAME}'", _SAFE_WORDS)
    text = re.sub(r"`([^`]*)`", r"'\1'", text)
    return f"{source}: {where('$' + path) if path else '(top level)'}: {text}"
