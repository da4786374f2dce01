"""The one MarketData, ChatData and ChatLive of this process, set by `create_app`, read by
the pages."""

from __future__ import annotations

from dashboard.chat_data import ChatData
from dashboard.chat_live import ChatLive
from dashboard.loader import MarketData

_market: MarketData | None = None
_chat: ChatData | None = None
_chat_live: ChatLive | None = None


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


def set_chat_live(live: ChatLive) -> None:
    global _chat_live
    _chat_live = live


def chat_live() -> ChatLive:
    if _chat_live is None:
        raise RuntimeError("the dashboard app has not been created")
    return _chat_live
