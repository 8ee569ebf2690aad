"""The Slack tools, one mixin class per tool group; `SlackConnector` inherits them all."""

from __future__ import annotations

from .bookmarks import BookmarkTools
from .canvases import CanvasTools
from .canvases_write import CanvasWriteTools
from .conversations import ConversationTools
from .files_write import FileWriteTools
from .pins import PinTools
from .search import SearchTools
from .users import UserTools
from .workspace import WorkspaceTools
from .write import WriteTools

__all__ = [
    "BookmarkTools",
    "CanvasTools",
    "CanvasWriteTools",
    "ConversationTools",
    "FileWriteTools",
    "PinTools",
    "SearchTools",
    "UserTools",
    "WorkspaceTools",
    "WriteTools",
]
