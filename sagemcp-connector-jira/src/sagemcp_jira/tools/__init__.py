"""The Jira tools: one mixin class of `@tool` methods per group, which `JiraConnector` combines."""

from .agile import AgileTools
from .attachments import AttachmentsTools
from .comments import CommentsTools
from .issues import IssueDeletionTools, IssuesTools
from .links import LinksTools
from .projects import ProjectsTools
from .transitions import TransitionsTools
from .users import UsersTools
from .versions import VersionsTools
from .watchers import WatchersTools
from .worklogs import WorklogsTools

__all__ = [
    "AgileTools",
    "AttachmentsTools",
    "CommentsTools",
    "IssueDeletionTools",
    "IssuesTools",
    "LinksTools",
    "ProjectsTools",
    "TransitionsTools",
    "UsersTools",
    "VersionsTools",
    "WatchersTools",
    "WorklogsTools",
]
