"""Named errors of the parsers: callers catch `ParseError` and nothing wider."""


class ParseError(Exception):
    """Base of every error the parsers raise."""


class UnsupportedFormat(ParseError):
    """The bytes are a format this version cannot parse yet (PDF, DOCX, XLS, images, ...)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unsupported format: {kind}")
        self.kind = kind


class BadNumber(ParseError, ValueError):
    """A token that looked like a number but is not one (e.g. 十十, 1.2.3)."""
