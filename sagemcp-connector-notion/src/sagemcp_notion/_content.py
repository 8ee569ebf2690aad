"""Reading a page's block tree within a budget, and writing blocks in the pieces Notion accepts.

Reading (`read_tree`): the children of a page or block are listed 100 at a time, and the
children of each block that has some are read depth first, down to `max_depth` levels and
up to `max_blocks` blocks in all. Where the depth stops, the block says its children were
not read; where the budget stops, a `Resume` says where the next call starts (the listing's
cursor and how many of its blocks were already shown).

Writing (`append_blocks`): Notion takes at most 100 blocks per request, nested at most two
levels, and 1,000 blocks in all. Blocks go in batches of up to 100; a block whose children
nest deeper than that is sent alone and its children appended to it next, so the content
keeps its order and shape. `after` inserts the first batch after a given block (the next
batches after the last block written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sagemcp import BoundClient

from ._blocks import MAX_INLINE_DEPTH, BlockNode, NewBlock

__all__ = ["MAX_BATCH", "Resume", "Tree", "append_blocks", "list_children", "read_tree"]

MAX_BATCH = 100
"""Blocks per append request (Notion's limit)."""
_MAX_REQUEST_BLOCKS = 900
"""Blocks, descendants included, in one request: under Notion's 1,000 with room to spare."""
_PAGE_SIZE = 100


@dataclass(frozen=True)
class Resume:
    """Where a cut reading goes on: the listing's start cursor (None: its first page) and blocks to skip."""

    start_cursor: str | None
    skip: int


@dataclass
class Tree:
    """The blocks read, how many in all, whether any nested level was cut, and where to resume."""

    nodes: list[BlockNode] = field(default_factory=list)
    count: int = 0
    depth_cut: bool = False
    resume: Resume | None = None
    requests: int = 0


async def list_children(
    http: BoundClient, block_id: str, start_cursor: str | None, page_size: int = _PAGE_SIZE
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a block's children and the cursor of the next page (None at the end)."""
    params: dict[str, Any] = {"page_size": page_size}
    if start_cursor:
        params["start_cursor"] = start_cursor
    response = await http.get(f"/v1/blocks/{block_id}/children", params=params)
    body = response.json_object()
    results = [item for item in body.get("results") or [] if isinstance(item, dict)]
    cursor = body.get("next_cursor") if body.get("has_more") is True else None
    return results, cursor if isinstance(cursor, str) and cursor else None


async def read_tree(
    http: BoundClient,
    root_id: str,
    *,
    max_blocks: int,
    max_depth: int,
    resume: Resume | None = None,
) -> Tree:
    """The blocks under `root_id` (see the module docstring)."""
    tree = Tree()
    cursor = resume.start_cursor if resume else None
    skip = resume.skip if resume else 0
    while True:
        results, next_cursor = await list_children(http, root_id, cursor)
        tree.requests += 1
        for index, block in enumerate(results):
            if index < skip:
                continue
            if tree.count >= max_blocks:
                tree.resume = Resume(cursor, index)
                return tree
            node = BlockNode(block)
            tree.count += 1
            tree.nodes.append(node)
            await _read_children(http, node, tree, depth=1, max_blocks=max_blocks, max_depth=max_depth)
        skip = 0
        if next_cursor is None:
            return tree
        if tree.count >= max_blocks:
            tree.resume = Resume(next_cursor, 0)
            return tree
        cursor = next_cursor


async def _read_children(
    http: BoundClient, node: BlockNode, tree: Tree, *, depth: int, max_blocks: int, max_depth: int
) -> None:
    if node.block.get("has_children") is not True or node.type in ("child_page", "child_database"):
        return  # a sub-page's content is its own page, read on its own
    if depth >= max_depth or tree.count >= max_blocks:
        node.children_cut = True
        tree.depth_cut = tree.depth_cut or depth >= max_depth
        return
    cursor: str | None = None
    while True:
        results, cursor = await list_children(http, node.id, cursor)
        tree.requests += 1
        for block in results:
            if tree.count >= max_blocks:
                node.children_cut = True
                return
            child = BlockNode(block)
            tree.count += 1
            node.children.append(child)
            await _read_children(http, child, tree, depth=depth + 1, max_blocks=max_blocks, max_depth=max_depth)
        if cursor is None:
            return


@dataclass
class Written:
    """What `append_blocks` wrote: the ids of the top-level blocks in order, and how many blocks in all."""

    ids: list[str] = field(default_factory=list)
    count: int = 0
    requests: int = 0


def _fits_inline(block: NewBlock) -> bool:
    return (
        block.depth() <= MAX_INLINE_DEPTH
        and all(len(c.children) <= MAX_BATCH for c in block.children)
        and len(block.children) <= MAX_BATCH
    )


def batches(blocks: Sequence[NewBlock]) -> list[list[NewBlock]]:
    """`blocks` cut into requests: at most 100 each, under the total-size limit, a too-deep block alone."""
    out: list[list[NewBlock]] = []
    current: list[NewBlock] = []
    size = 0
    for block in blocks:
        alone = not _fits_inline(block)
        weight = 1 if alone else block.count()
        if current and (alone or len(current) >= MAX_BATCH or size + weight > _MAX_REQUEST_BLOCKS):
            out.append(current)
            current, size = [], 0
        current.append(block)
        size += weight
        if alone:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out


async def append_blocks(
    http: BoundClient, parent_id: str, blocks: Sequence[NewBlock], *, after: str | None = None
) -> Written:
    """Append `blocks` (and their children) to `parent_id`, after block `after` when given."""
    written = Written()
    previous = after
    for batch in batches(blocks):
        inline = len(batch) > 1 or _fits_inline(batch[0])
        body: dict[str, Any] = {"children": [b.request(MAX_INLINE_DEPTH if inline else 0) for b in batch]}
        if previous is not None:
            body["after"] = previous
        response = await http.patch(f"/v1/blocks/{parent_id}/children", json=body)
        written.requests += 1
        created = [item for item in response.json_list("results", of=dict)]
        ids = [str(item.get("id")) for item in created if isinstance(item.get("id"), str)]
        written.ids.extend(ids)
        written.count += sum(b.count() for b in batch) if inline else 1
        if not inline and ids and batch[0].children:
            # The block went alone, without its children: append them to it now.
            nested = await append_blocks(http, ids[0], batch[0].children)
            written.count += nested.count
            written.requests += nested.requests
        if ids:
            previous = ids[-1] if after is not None else None
    return written
