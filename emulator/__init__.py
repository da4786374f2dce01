"""Local emulator of the Twitch APIs the product uses; the demo and the tests run on it."""
