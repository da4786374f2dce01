"""The one MarketData of this process, set by `create_app` and read by the pages."""

from __future__ import annotations

from dashboard.data import MarketData

_market: MarketData | None = None


def set_market(market: MarketData) -> None:
    global _market
    _market = market


def market() -> MarketData:
    if _market is None:
        raise RuntimeError("the dashboard app has not been created")
    return _market
