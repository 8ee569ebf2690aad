"""The tools: one mixin class of `@tool` methods per group, which `GoogleConnector` combines."""

from .calendar import CalendarTools
from .calendar_delete import CalendarDeleteTools
from .docs import DocsTools
from .docs_structure import DocsStructureTools
from .drive import DriveTools
from .drive_comments import DriveCommentsTools
from .drive_sharing import DriveSharingTools
from .drive_trash import DriveTrashTools
from .gmail import GmailTools
from .gmail_send import GmailSendTools
from .sheets import SheetsTools
from .sheets_delete import SheetsDeleteTools
from .sheets_layout import SheetsLayoutTools

__all__ = [
    "CalendarDeleteTools",
    "CalendarTools",
    "DocsStructureTools",
    "DocsTools",
    "DriveCommentsTools",
    "DriveSharingTools",
    "DriveTools",
    "DriveTrashTools",
    "GmailSendTools",
    "GmailTools",
    "SheetsDeleteTools",
    "SheetsLayoutTools",
    "SheetsTools",
]
