"""The Zoom tools: one mixin class of `@tool` methods per group; `ZoomConnector` combines them."""

from .meetings import MeetingsTools
from .meetings_delete import MeetingsDeleteTools
from .recordings import RecordingsTools
from .recordings_delete import RecordingsDeleteTools
from .summaries import SummariesTools
from .users import UsersTools
from .users_admin import UsersAdminTools
from .webinars import WebinarsTools

__all__ = [
    "MeetingsDeleteTools",
    "MeetingsTools",
    "RecordingsDeleteTools",
    "RecordingsTools",
    "SummariesTools",
    "UsersAdminTools",
    "UsersTools",
    "WebinarsTools",
]
