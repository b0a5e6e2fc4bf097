"""Ledger storage: the Protocol in `base`, the SQLite implementation in `sqlite`."""
