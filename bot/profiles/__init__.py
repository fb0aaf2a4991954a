"""Profiles: what members choose to share about themselves (/rapport profile), and their cached phrase vectors."""
