"""Representative arguments for every tool; `test_contract.py` checks each request they make against the description."""

from __future__ import annotations

CASES: list[tuple[str, dict[str, object]]] = [
    ("zoom_get_item", {"item_id": "itm_1"}),
    ("zoom_list_items", {}),
    ("zoom_list_items", {"limit": 2}),
]
