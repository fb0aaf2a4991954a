"""Interests: offline semantic matching of interest phrases, and the conversation starters and matches built on it."""
