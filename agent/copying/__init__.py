"""Copy sessions: the copier enabled through the interface board, or (no board) watched
through the device's own counters; metered and settled once either way."""
