"""Representative arguments for every tool; `test_contract.py` checks each request they make against the description."""

from __future__ import annotations

CASES: list[tuple[str, dict[str, object]]] = [
    ("throwaway_get_item", {"item_id": "itm_1"}),
    ("throwaway_list_items", {}),
    ("throwaway_list_items", {"limit": 2}),
    # The description's example item has no attachment: the tool says so, after one described request.
    ("throwaway_get_item_attachment", {"item_id": "itm_1"}),
]
