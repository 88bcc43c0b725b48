"""Errors the CLI turns into a one-line message and a non-zero exit."""


class NianbaoError(Exception):
    """Base of every error the user should see as one line, never a traceback."""


class SettingsError(NianbaoError):
    """The settings file is missing, unreadable, or has a bad or unknown key."""


class UsageError(NianbaoError):
    """A command-line value is malformed (a year range, a date, a portal id)."""
