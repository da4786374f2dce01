"""The Dash market website (see issue: Show)."""
