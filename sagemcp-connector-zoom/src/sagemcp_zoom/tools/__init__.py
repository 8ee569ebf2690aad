"""The Zoom tools: one mixin class of `@tool` methods per group; `ZoomConnector` combines them."""

from .items import ItemsTools

__all__ = ["ItemsTools"]
