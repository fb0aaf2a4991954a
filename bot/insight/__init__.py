"""Seeing the graph: a member's own map, and aggregate insight for leads that names nobody."""
