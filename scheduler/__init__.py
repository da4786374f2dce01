"""The collector: an APScheduler daemon that snapshots the top Twitch streams into MongoDB."""
