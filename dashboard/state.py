"""The one MarketData and ChatData of this process, set by `create_app`, read by the pages."""

from __future__ import annotations

from dashboard.chat_data import ChatData
from dashboard.loader import MarketData

_market: MarketData | None = None
_chat: ChatData | None = None


def set_market(market: MarketData) -> None:
    global _market
    _market = market


def market() -> MarketData:
    if _market is None:
        raise RuntimeError("the dashboard app has not been created")
    return _market


def set_chat(chat: ChatData) -> None:
    global _chat
    _chat = chat


def chat() -> ChatData:
    if _chat is None:
        raise RuntimeError("the dashboard app has not been created")
    return _chat
