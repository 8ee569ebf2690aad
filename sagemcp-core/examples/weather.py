"""A complete connector: what a third party publishes as `sagemcp-connector-weather`.

Run the demo server with `python -m examples.weather` from sagemcp-core/ (see docs/embedding.md).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from sagemcp import ApiKey, Connector, ConnectorInfo, ConnectorSettings, ToolContext, tool


class Forecast(BaseModel):
    city: str
    summary: str
    temperature_c: float


class WeatherConfig(ConnectorSettings):
    units: str = Field(default="metric", pattern="^(metric|imperial)$", description="Units for temperatures.")


class WeatherConnector(Connector):
    info = ConnectorInfo(
        id="weather",
        title="Weather",
        description="Current weather and forecasts from a weather API.",
        version="1.0.0",
    )
    auth = (ApiKey(header="X-API-Key"),)
    Config = WeatherConfig
    base_url = "https://api.weather.example"

    @tool(read_only=True, group="forecast")
    async def get_forecast(
        self,
        ctx: ToolContext[WeatherConfig],
        city: Annotated[str, Field(min_length=1, description="City name, e.g. 'Lisbon'.")],
    ) -> Forecast:
        """Get today's forecast for a city. Use it when someone asks about the weather somewhere."""
        response = await ctx.http.get("/forecast", params={"city": city, "units": ctx.config.units})
        data = response.json()
        return Forecast(city=city, summary=data["summary"], temperature_c=data["temp"])
