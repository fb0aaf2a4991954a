"""The records the core and storage share: frozen dataclasses with no I/O, one module per capability.

Ports (bot/ports.py) and storage (storage/) import these, never the feature modules that act on them.
"""
