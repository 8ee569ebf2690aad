"""Connectors that ship with the server (just `demo`, a no-credential connector to try things out)."""
