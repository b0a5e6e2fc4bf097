"""The agent's local API: JSON-RPC 2.0, one object per line, on a Unix socket."""
