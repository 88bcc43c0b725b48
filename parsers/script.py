"""Traditional-character copies read as simplified: pinyin glosses stripped, then OpenCC t2s.

Every rule is written in simplified characters; a big5 gateway page or a converter mirror
('報(bào)告') would otherwise read as nothing. Text with none of the markers is returned as is,
so simplified reports (nearly all) pay only one scan.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from parsers.rules.core import PINYIN_GLOSS_SOURCE, PINYIN_TONE_VOWELS, TRADITIONAL_MARKERS

_GATE_RE = re.compile("[" + TRADITIONAL_MARKERS + PINYIN_TONE_VOWELS + "]")
_GLOSS_RE = re.compile(PINYIN_GLOSS_SOURCE)


GATE_CHARS = 3000  # a traditional copy shows it in its first lines: the rest need not be scanned


def may_be_traditional(text: str) -> bool:
    """Whether the text's start has a traditional-only character or a pinyin tone mark."""
    return _GATE_RE.search(text, 0, GATE_CHARS) is not None


def to_simplified(text: str) -> str:
    """The text in simplified characters, without pinyin glosses; unchanged when neither occurs."""
    if not may_be_traditional(text):
        return text
    text = _GLOSS_RE.sub("", text)
    converted: str = _converter().convert(text)
    return converted


@functools.cache
def _converter() -> Any:
    import opencc  # imported on first use: most reports never need it

    return opencc.OpenCC("t2s")
