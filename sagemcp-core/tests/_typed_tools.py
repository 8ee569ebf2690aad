"""Tools of the typed example connector, in their own module as connector packages lay them out.

The config class lives in the module that imports this one, so it is imported for the
type checker only: the tool decorator never evaluates the context's annotation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field

from sagemcp import ToolContext, tool

if TYPE_CHECKING:
    from ._typed_connector import StockConfig


class Level(BaseModel):
    sku: str
    warehouse: str
    quantity: int


def tenant_label(ctx: ToolContext) -> str:
    """A helper written for any connector: it takes a plain `ToolContext`."""
    return f"{ctx.tenant.slug}/{ctx.connector.name}"


class StockTools:
    @tool(read_only=True, group="stock")
    async def get_level(
        self, ctx: ToolContext[StockConfig], sku: Annotated[str, Field(min_length=1, description="The SKU.")]
    ) -> Level:
        """Get the stock level of one SKU in the tenant's warehouse."""
        warehouse: str = ctx.config.warehouse  # typed: no getattr, no ignore
        response = await ctx.http.get(f"/levels/{sku}", params={"warehouse": warehouse})
        quantity: int = response.json()["quantity"] * ctx.config.pack_size
        ctx.logger.info("stock read for %s", tenant_label(ctx))  # a typed context passes as a plain one
        return Level(sku=sku, warehouse=warehouse, quantity=quantity)
