"""Nudges: when one may go out (policy), and planning, composing and delivering them (/rapport nudges, share)."""
