"""The frame genre classifier (see issue: Label)."""
