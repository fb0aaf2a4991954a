"""Platform adapters: each translates platform payloads into bot.events and renders bot.replies."""


class PlatformError(Exception):
    """A platform cannot be used (bad token, unreachable API): the message is shown as one line, no traceback."""
