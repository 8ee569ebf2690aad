"""The Notion tools, one mixin class of `@tool` methods per group, which `NotionConnector` combines.

Groups are resources: `search`, `pages`, `blocks`, `databases` (databases and their data
sources), `comments`, `users`; each holds its reads and its writes (a tenant that wants no
writes sets the tool policy's `read_only`). `trash` stands apart and is off by default: it
archives and restores pages and deletes blocks.
"""

from .blocks import BlockTools
from .comments import CommentTools
from .databases import DatabaseTools
from .pages import PageTools
from .search import SearchTools
from .trash import TrashTools
from .users import UserTools

__all__ = ["BlockTools", "CommentTools", "DatabaseTools", "PageTools", "SearchTools", "TrashTools", "UserTools"]
