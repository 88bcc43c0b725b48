"""What a spider yields: one fetch, exactly as it came back. No figures, no parsing.

It is the archive's capture type itself (archive.captures.CaptureIn), checked where the spider
builds it and handed to the archive writer as it is (crawler.pipeline); `CaptureItem` is only
the name the spiders know it by.
"""

from __future__ import annotations

from archive.captures import CaptureIn as CaptureItem

__all__ = ["CaptureItem"]
