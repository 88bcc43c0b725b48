"""Numbers as printed in Chinese reports -> int or exact Decimal (never float).

Handles Arabic and full-width digits, thousands separators, decimals, the multipliers 万 / 亿,
Chinese numerals (一百二十三, 两千零五, 十五, 三亿五千万, 二〇一三) and mixes such as 3万5千.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from parsers.errors import BadNumber
from parsers.model import Number

# Regex source for one number token, for use inside larger patterns (rules.py, tables).
ARABIC_PATTERN = (
    r"(?:[0-9０-９]{1,3}(?:[,，][0-9０-９]{3})+|[0-9０-９]+)(?:[.．][0-9０-９]+)?(?:万亿|万|亿)?"
)
# Starts with a digit or 十: a bare 万 / 亿 is the unit of 万元, not a number.
CHINESE_PATTERN = (
    r"[零〇○一二两三四五六七八九十壹贰叁肆伍陆柒捌玖拾]"
    r"[零〇○一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]*(?:点[零〇○一二三四五六七八九]+)?"
)
NUMBER_PATTERN = f"(?:{ARABIC_PATTERN}|{CHINESE_PATTERN})"

_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}  # fmt: skip
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_SUFFIX_MULTIPLIERS = {"万亿": 10**12, "万": 10**4, "亿": 10**8}

# More digits than any real figure has; also keeps clear of CPython's int/str digit limit.
_MAX_DIGITS = 30

_FULL_WIDTH = tuple(zip("０１２３４５６７８９．，", "0123456789.,", strict=True))
_FULL_WIDTH_RE = re.compile("[０-９．，]")
_ARABIC_RE = re.compile(r"(\d+(?:\.\d+)?)(万亿|万|亿)?", re.ASCII)
_GROUPED_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:万亿|万|亿)?", re.ASCII)
_TOKEN_RE = re.compile(r"[0-9]+|.", re.ASCII | re.DOTALL)


def ascii_digits(text: str) -> str:
    """Full-width digits, point and comma -> ASCII (the rest unchanged)."""
    # Not str.translate: with a dict it costs ~15 µs per prose line (every ， is looked up),
    # against ~2 µs for the few replace() calls of the characters actually present.
    if _FULL_WIDTH_RE.search(text) is None:
        return text
    for wide, narrow in _FULL_WIDTH:
        if wide in text:
            text = text.replace(wide, narrow)
    return text


def parse_number(token: str) -> Number:
    """One printed number -> int, or Decimal when it has a fractional part. Raises BadNumber."""
    if token.isascii() and token.isdigit() and len(token) <= _MAX_DIGITS:
        return int(token)  # the common case, a plain table cell
    s = "".join(ascii_digits(token).split())
    if _GROUPED_RE.fullmatch(s):
        s = s.replace(",", "")
    if not s or len(s) > _MAX_DIGITS:
        raise BadNumber(f"not a number: {token!r}")
    m = _ARABIC_RE.fullmatch(s)
    if m:
        return _arabic(m.group(1), m.group(2))
    if "点" in s:
        return _chinese_decimal(s, token)
    return _chinese_integer(s, token)


def _arabic(digits: str, suffix: str | None) -> Number:
    """'24252.311082' stays a Decimal as printed; '1.03' with 万 becomes the int 10300."""
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise BadNumber(digits) from exc
    if suffix:
        value *= _SUFFIX_MULTIPLIERS[suffix]
        return tidy(value)
    return int(value) if "." not in digits else value


def tidy(value: Number) -> Number:
    """An integral Decimal becomes an int; otherwise drop the trailing zeros a multiplication added."""
    if isinstance(value, int):
        return value
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def _chinese_decimal(s: str, token: str) -> Number:
    whole, _, frac = s.partition("点")
    int_part = _chinese_integer(whole, token) if whole else 0
    if not frac or any(c not in _DIGITS for c in frac):
        raise BadNumber(f"not a number: {token!r}")
    return Decimal(f"{int_part}.{''.join(str(_DIGITS[c]) for c in frac)}")


def _chinese_integer(s: str, token: str) -> int:
    """Chinese numerals, possibly mixed with Arabic runs ('3万5千')."""
    tokens = _TOKEN_RE.findall(s)
    if any(t not in _DIGITS and t not in _SMALL_UNITS and t not in _BIG_UNITS and not t.isdecimal()
           for t in tokens):  # fmt: skip
        raise BadNumber(f"not a number: {token!r}")
    if not any(t in _SMALL_UNITS or t in _BIG_UNITS for t in tokens):
        # 二〇一三: digit by digit, as years are written.
        return int("".join(str(_digit(t)) for t in tokens))
    return _positional(tokens, token)


def _digit(t: str) -> int:
    return int(t) if t.isdecimal() else _DIGITS[t]


def _positional(tokens: list[str], token: str) -> int:
    """一百二十三 -> 123, 两千零五 -> 2005, 十五 -> 15, 三亿五千万 -> 350000000."""
    total, section, number = 0, 0, 0
    pending_digit = False
    for t in tokens:
        if t in _SMALL_UNITS:
            # A bare 十 means 一十 (十五 = 15); a bare 百/千 likewise counts one.
            section += (number if pending_digit else 1) * _SMALL_UNITS[t]
            number, pending_digit = 0, False
        elif t in _BIG_UNITS:
            unit = _BIG_UNITS[t]
            if unit > 10**4:
                total = (total + section + number) * unit
            else:
                total += (section + number) * unit
            section, number, pending_digit = 0, 0, False
        else:
            if pending_digit and number != 0:
                raise BadNumber(f"not a number: {token!r}")  # 二三百: two digits, no unit between
            number, pending_digit = _digit(t), True
    return total + section + number
