"""The Dash market website: the app, its pages, figures and the in-memory market view."""
