"""Copy sessions: the copier enabled through the interface board, metered and settled once."""
