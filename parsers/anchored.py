"""Pattern.finditer, faster for a pattern that opens with a group of words: (?:收到|受理|承办)….

The regex engine skips quickly to a pattern's first literal word, but tries a pattern that opens
with alternatives at every position of the text; over a 60 KB report that was most of the time
the headline rules took. Such a pattern is tried only where one of its words occurs (found with
str.find). The matches are exactly those of Pattern.finditer: a match starts with one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# '(?:w1|w2|…)' of plain words at the start of a pattern, not made optional or repeated.
_LEADING_WORDS_RE = re.compile(r"\(\?:(\w+(?:\|\w+)+)\)(?![?*+{])")


@dataclass(frozen=True)
class Anchored:
    """A compiled pattern and the words every match of it starts with (None: not known)."""

    regex: re.Pattern[str]
    words: tuple[str, ...] | None

    def finditer(
        self, text: str, seen: dict[str, list[int]] | None = None
    ) -> Iterator[re.Match[str]]:
        """The matches of regex.finditer(text), in order.

        `seen` keeps each word's positions in this text for the next pattern that starts with it
        (the headline rules share their words: 收到, 未发生, 网站, …), so a word is looked for once.
        """
        if self.words is None:
            yield from self.regex.finditer(text)
            return
        end = 0
        for start in _positions(text, self.words, {} if seen is None else seen):
            if start >= end and (m := self.regex.match(text, start)):
                yield m
                end = m.end()  # never empty: it starts with a word


def anchored(pattern: str) -> Anchored:
    return Anchored(re.compile(pattern), leading_words(pattern))


def leading_words(pattern: str) -> tuple[str, ...] | None:
    """('收到', '受理') for '(?:收到|受理)申请…'; None unless every match must start so."""
    m = _LEADING_WORDS_RE.match(pattern)
    if m is None or _top_level_bar(pattern[m.end() :]):
        return None  # '(?:a|b)c|d' may start with d
    return tuple(m.group(1).split("|"))


def _top_level_bar(source: str) -> bool:
    """Whether a regex source has a '|' outside every group and character class."""
    depth, i = 0, 0
    while i < len(source):
        c = source[i]
        if c == "[":
            i = _class_end(source, i)
            continue
        if c == "|" and depth == 0:
            return True
        depth += {"(": 1, ")": -1}.get(c, 0)
        i += 2 if c == "\\" else 1
    return False


def _class_end(source: str, start: int) -> int:
    """The index after the character class opening at `start` ('[]…]' and '[^]…]' included)."""
    i = start + 1
    i += source.startswith("^", i)
    i += source.startswith("]", i)  # a ']' first in the class is a literal
    while i < len(source) and source[i] != "]":
        i += 2 if source[i] == "\\" else 1
    return i + 1


def _positions(text: str, words: tuple[str, ...], seen: dict[str, list[int]]) -> list[int]:
    """Every index where one of the words occurs, ascending."""
    found: set[int] = set()
    for word in words:
        at = seen.get(word)
        if at is None:
            at = seen[word] = _occurrences(text, word)
        found.update(at)
    return sorted(found)


class WordIndex:
    """Where each of many words occurs in a text, found in one pass (for Anchored.finditer's
    `seen`): one search for all the words at once, instead of one scan of the text per word."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted(set(words), key=len, reverse=True))
        self._any = re.compile("|".join(map(re.escape, self.words)))
        self._by_first: dict[str, tuple[str, ...]] = {}
        for w in self.words:
            self._by_first[w[0]] = (*self._by_first.get(w[0], ()), w)

    def positions(self, text: str) -> dict[str, list[int]]:
        """word -> every index where it occurs (overlapping ones too), ascending."""
        found: dict[str, list[int]] = {w: [] for w in self.words}
        m = self._any.search(text)
        while m is not None:
            at = m.start()
            for w in self._by_first[text[at]]:
                if text.startswith(w, at):
                    found[w].append(at)
            m = self._any.search(text, at + 1)  # a word may start inside the one just found
        return found


def _occurrences(text: str, word: str) -> list[int]:
    at = []
    i = text.find(word)
    while i >= 0:
        at.append(i)
        i = text.find(word, i + 1)
    return at
