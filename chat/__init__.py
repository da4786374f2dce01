"""Twitch chat: an IRC reader of the top channels, counted per channel and minute."""
