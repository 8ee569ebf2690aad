"""The Slack tools, one mixin class per tool group; `SlackConnector` inherits them all.

Read groups are named after the resource they read (`conversations`, `messages`, ...).
Writes sit in `{resource}_write` groups, off by default: each one lets the assistant
act in the workspace in front of other people, so an operator turns on exactly the
kinds of change a tenant wants (see each module).
"""

from __future__ import annotations

from .bookmarks import BookmarkTools
from .bookmarks_write import BookmarkWriteTools
from .canvases import CanvasTools
from .canvases_write import CanvasWriteTools
from .conversations import ConversationTools
from .files_write import FileWriteTools
from .messages import MessageTools
from .messages_write import MessageWriteTools
from .pins import PinTools
from .pins_write import PinWriteTools
from .search import SearchTools
from .users import UserTools
from .workspace import WorkspaceTools

__all__ = [
    "BookmarkTools",
    "BookmarkWriteTools",
    "CanvasTools",
    "CanvasWriteTools",
    "ConversationTools",
    "FileWriteTools",
    "MessageTools",
    "MessageWriteTools",
    "PinTools",
    "PinWriteTools",
    "SearchTools",
    "UserTools",
    "WorkspaceTools",
]
