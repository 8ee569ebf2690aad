"""The GitHub tools, one mixin class per tool group; `GitHubConnector` inherits them all."""

from __future__ import annotations

from .actions import ActionsTools
from .context import ContextTools
from .issues import IssuesTools
from .notifications import NotificationsTools
from .pull_requests import PullRequestsTools
from .repos import ReposTools
from .security import SecurityTools
from .users import UsersTools

__all__ = [
    "ActionsTools",
    "ContextTools",
    "IssuesTools",
    "NotificationsTools",
    "PullRequestsTools",
    "ReposTools",
    "SecurityTools",
    "UsersTools",
]
