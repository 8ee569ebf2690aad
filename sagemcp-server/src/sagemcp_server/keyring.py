"""Where the `SecretBox` key ring comes from: `SAGEMCP_SECRET_KEYS`, or a key file beside the SQLite database.

The key file holds one key per line, the encrypting key first. It is created with mode
0600 the first time the embedded database is used without `SAGEMCP_SECRET_KEYS`. Losing
it means losing every stored secret: back it up with the database.

A running server follows the key file: `sagemcp keys rotate` rewrites it, and the box
re-reads it (at most once a second before encrypting, and at once for an unknown key
id), so servers encrypt under the new key without a restart. Keys given in
`SAGEMCP_SECRET_KEYS` cannot change under a running process: roll the new ring out first.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sagemcp.platform import SecretBox

from .settings import Settings

__all__ = [
    "KEY_FILE_CHECK_INTERVAL",
    "KeyFileSource",
    "KeyRingError",
    "load_secret_box",
    "read_key_file",
    "write_key_file",
]

KEY_FILE_CHECK_INTERVAL = 1.0
"""Seconds between checks of the key file by a running server (`sagemcp keys rotate --drop-old` waits longer)."""

logger = logging.getLogger("sagemcp_server.keys")


class KeyRingError(RuntimeError):
    """No usable key ring: the message says what to set."""


def read_key_file(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("ascii").splitlines() if line.strip() and not line.startswith("#")]


def write_key_file(path: Path, keys: list[str]) -> None:
    """Write the keys (first encrypts) atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("# sagemcp secret keys, one per line; the first encrypts. Keep this file secret, back it up.\n")
        handle.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class KeyFileSource:
    """The key file's ring whenever the file changed (by modification time, size and inode) since the last look.

    An unreadable or invalid file keeps the ring in use, with one warning per change.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self._signature()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def __call__(self) -> list[str] | None:
        signature = self._signature()
        if signature is None or signature == self._seen:
            return None
        self._seen = signature
        try:
            keys = read_key_file(self.path)
            SecretBox(keys)  # validates the ring before it is used
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            logger.warning(
                "the key file %s changed but is not usable (%s); keeping the key ring in use", self.path, exc
            )
            return None
        logger.info("the key file %s changed: using its %d keys", self.path, len(keys))
        return keys


def load_secret_box(settings: Settings, *, create: bool = True) -> SecretBox:
    """The key ring for `settings`; generates the key file for the embedded SQLite database when `create`."""
    if settings.secret_keys is not None and settings.secret_keys.get_secret_value().strip():
        try:
            return SecretBox.from_env_value(settings.secret_keys.get_secret_value())
        except ValueError as exc:
            raise KeyRingError(f"SAGEMCP_SECRET_KEYS is not usable: {exc}") from None
    path = settings.key_file()
    if path is None:
        raise KeyRingError(
            "set SAGEMCP_SECRET_KEYS to one or more comma-separated keys (create one with `sagemcp keys generate`); "
            "a key file is generated only for the embedded SQLite database"
        )
    if path.exists():
        try:
            return SecretBox(read_key_file(path), source=KeyFileSource(path), check_interval=KEY_FILE_CHECK_INTERVAL)
        except ValueError as exc:
            raise KeyRingError(f"the key file {path} is not usable: {exc}") from None
    if not create:
        raise KeyRingError(f"no key file at {path} and SAGEMCP_SECRET_KEYS is not set")
    write_key_file(path, [SecretBox.generate_key()])
    logger.warning(
        "generated a secret key file at %s (mode 0600) to encrypt tokens in the embedded database; "
        "back it up with the database, or set SAGEMCP_SECRET_KEYS instead",
        path,
    )
    return SecretBox(read_key_file(path), source=KeyFileSource(path), check_interval=KEY_FILE_CHECK_INTERVAL)
