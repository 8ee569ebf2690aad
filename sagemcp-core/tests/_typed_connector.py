"""A connector whose tools read a typed configuration (`ToolContext[StockConfig]`); mypy-checked by test_context."""

from __future__ import annotations

from pydantic import Field

from sagemcp import BearerToken, Connector, ConnectorInfo, ConnectorSettings

from ._typed_tools import StockTools


class StockConfig(ConnectorSettings):
    warehouse: str = Field(default="main", description="The warehouse to read.")
    pack_size: int = Field(default=1, ge=1, description="Items per counted unit.")


class StockConnector(StockTools, Connector):
    info = ConnectorInfo(id="stock", title="Stock", description="Stock levels of a warehouse API.")
    auth = (BearerToken(),)
    Config = StockConfig
    base_url = "https://stock.example"
