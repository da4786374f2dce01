"""Highlight moments of live streams from their sound, picture and chat (docs/highlights.md)."""
