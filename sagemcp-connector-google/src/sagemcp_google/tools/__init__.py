"""The tools: one mixin class of `@tool` methods per group, which `GoogleConnector` combines."""

from .calendar import CalendarTools
from .calendar_delete import CalendarDeleteTools
from .docs import DocsTools
from .drive import DriveTools
from .drive_comments import DriveCommentsTools
from .drive_sharing import DriveSharingTools
from .drive_trash import DriveTrashTools
from .gmail import GmailTools
from .gmail_send import GmailSendTools
from .sheets import SheetsTools
from .sheets_delete import SheetsDeleteTools

__all__ = [
    "CalendarDeleteTools",
    "CalendarTools",
    "DocsTools",
    "DriveCommentsTools",
    "DriveSharingTools",
    "DriveTools",
    "DriveTrashTools",
    "GmailSendTools",
    "GmailTools",
    "SheetsDeleteTools",
    "SheetsTools",
]
