"""Copy sessions in the ledger: opened before the board enables the copier, settled once
with their one `copy` charge, so a restart settles what a crash left open."""

from __future__ import annotations

from typing import Any

import msgspec
import uuid6

from agent.ledger.core import LedgerCore
from agent.ledger.errors import JobNotFound
from agent.ledger.models import CopyRow, EvidenceSource, Txn, copy_from_row


class CopySessions(LedgerCore):
    def open_copy(self, *, user: str, printer: str, board_boot: int,
                  start: dict[str, Any], evidence: EvidenceSource = "board") -> str:
        """Record a copy session before the board enables the copier: its session row and
        the counters at the start in one commit, so a restart can settle it. `evidence`:
        "counters" for a session counted without a board (its board_boot is 0)."""
        key = str(uuid6.uuid7())
        now = self._now()
        with self._write():
            self._insert_session(key, "copy", evidence, printer, user, now)
            self._conn.execute(
                "INSERT INTO copy_sessions (session_key, state, board_boot, start_json,"
                " started_at) VALUES (?, 'open', ?, ?, ?)",
                (key, board_boot, msgspec.json.encode(start).decode(), now))
        return key

    def open_copies(self, evidence: EvidenceSource = "board") -> list[CopyRow]:
        """Copy sessions begun and not settled, counted by `evidence`: a restart settles
        them, oldest first."""
        return self._copies("c.state = 'open' AND s.evidence = ? ORDER BY c.started_at",
                            (evidence,))

    def copy_session(self, session_key: str) -> CopyRow:
        found = self._copies("c.session_key = ?", (session_key,))
        if not found:
            raise JobNotFound(f"no copy session {session_key!r} in the ledger")
        return found[0]

    def settle_copy(self, session_key: str, *, pages: int, cost: int, review: bool,
                    result: dict[str, Any], note: str) -> Txn | None:
        """Close a copy session with its one `copy` charge (none for 0), in one commit.
        Settling it again writes nothing and returns the first charge."""
        if pages < 0 or cost < 0:
            raise ValueError(f"pages and cost cannot be negative ({pages}, {cost})")
        with self._write():
            row = self._copies("c.session_key = ?", (session_key,))
            if not row:
                raise JobNotFound(f"no copy session {session_key!r} in the ledger")
            if row[0].state != "open":
                return self._txn_for(session_key, "copy")
            now = self._now()
            self._conn.execute(
                "UPDATE copy_sessions SET state = ?, result_json = ?, settled_at = ?"
                " WHERE session_key = ?",
                ("review" if review else "settled", msgspec.json.encode(result).decode(),
                 now, session_key))
            if cost == 0:
                return None
            job = {"kind": "copy", "session": session_key, "printer": row[0].printer,
                   "impressions": pages, "review": review}
            return self._insert_txn(
                kind="copy", type_="copy", user=row[0].user, amount=-cost,
                session_key=session_key, reason=None, note=note, job=job, now=now)

    def _copies(self, where: str, params: tuple[Any, ...]) -> list[CopyRow]:
        with self._lock:
            rows = self.db.query(
                "SELECT c.*, s.user, s.printer, s.evidence FROM copy_sessions c"
                f" JOIN sessions s USING (session_key) WHERE {where}", params)
            return [copy_from_row(r) for r in rows]
