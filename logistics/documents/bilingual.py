"""A document's fixed words, printed in Bangla and English side by side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from logistics.i18n import in_language


class Words:
    """Words keyed by name, each read from the catalogs in both languages once a process."""

    def __init__(self, table: Mapping[str, Any]) -> None:
        self._table = table
        self._pairs: dict[str, tuple[str, str]] | None = None

    def pairs(self) -> dict[str, tuple[str, str]]:
        """Each word as (Bangla, English)."""
        if self._pairs is None:
            self._pairs = {
                k: (in_language("bn", w), in_language("en", w)) for k, w in self._table.items()
            }
        return self._pairs

    def both(self, key: str, sep: str = " / ", upper: bool = False) -> str:
        bn, en = self.pairs()[key]
        return f"{bn}{sep}{en.upper() if upper else en}"
