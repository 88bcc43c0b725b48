"""Named errors of the parsers: callers catch `ParseError` and nothing wider."""


class ParseError(Exception):
    """Base of every error the parsers raise."""


class UnsupportedFormat(ParseError):
    """The bytes are a format the parsers do not read (images, RTF, ZIP archives, ...)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unsupported format: {kind}")
        self.kind = kind


class CorruptFile(ParseError):
    """The bytes claim a format (PDF, DOCX, XLS, ...) but no reader can open them."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"corrupt or unreadable {kind} file")
        self.kind = kind


class ConverterMissing(UnsupportedFormat):
    """A DOC file, and the converter it needs (antiword) is not installed."""


class BadNumber(ParseError, ValueError):
    """A token that looked like a number but is not one (e.g. 十十, 1.2.3)."""


class LimitExceeded(ParseError):
    """An input over a limit of rules/limits.py: refused whole, never parsed in part."""

    def __init__(self, what: str, amount: int, unit: str, limit: int, name: str) -> None:
        super().__init__(f"{what} too large to parse: {amount:,} {unit}, limit {limit:,} ({name})")
        self.what, self.amount, self.limit, self.name = what, amount, limit, name
