"""nianbao: parsers. A pure leaf: bytes or text in, frozen dataclasses out; no I/O, no clock."""

from parsers.decode import decode_html
from parsers.errors import (
    ConverterMissing,
    CorruptFile,
    LimitExceeded,
    ParseError,
    UnsupportedFormat,
)
from parsers.model import (
    PARSER_VERSION,
    Check,
    Decoded,
    Extracted,
    Figure,
    Metadata,
    ParsedReport,
    Provenance,
)
from parsers.report import parse_bytes, parse_html, parse_text, report_to_json

__all__ = [
    "PARSER_VERSION",
    "Check",
    "ConverterMissing",
    "CorruptFile",
    "Decoded",
    "Extracted",
    "Figure",
    "LimitExceeded",
    "Metadata",
    "ParseError",
    "ParsedReport",
    "Provenance",
    "UnsupportedFormat",
    "decode_html",
    "parse_bytes",
    "parse_html",
    "parse_text",
    "report_to_json",
]
