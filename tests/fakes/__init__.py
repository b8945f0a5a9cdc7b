"""Fake servers that stand in for third-party APIs in tests (bound to 127.0.0.1, port 0)."""
