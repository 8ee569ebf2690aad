"""The tools: one mixin class of `@tool` methods per group, which the connector class combines."""

from .attachments import AttachmentsTools
from .items import ItemsTools

__all__ = ["AttachmentsTools", "ItemsTools"]
