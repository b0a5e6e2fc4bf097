"""Where the real-printer recordings are: next to the checkout, never copied into it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECORDINGS = REPO.parent / "shared" / "fixtures" / "real-printers"


def recordings(sub: str, *patterns: str) -> list[Path]:
    """Recorded files under `sub`, sorted; empty when the folder is absent."""
    root = RECORDINGS / sub
    return sorted({p for pattern in patterns for p in root.rglob(pattern) if p.is_file()})


@pytest.fixture(autouse=True)
def _need_recordings() -> None:
    if not RECORDINGS.is_dir():
        pytest.skip(f"the real-printer recordings folder {RECORDINGS} is absent")
