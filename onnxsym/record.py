"""A result dataclass that also reads like the dict it was before: ``row["key"]``, ``row.get(key)``,
``"key" in row`` — so code written against the JSON-shaped dicts keeps working while new code uses
attributes."""
from __future__ import annotations

from dataclasses import fields


class Record:
    """Mixin for result dataclasses: mapping-style reads of their fields (read-only)."""

    def __getitem__(self, key):
        if key in self._names():
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key, default=None):
        return getattr(self, key) if key in self._names() else default

    def __contains__(self, key) -> bool:
        return key in self._names()

    def keys(self):
        return list(self._names())

    @classmethod
    def _names(cls):
        return [f.name for f in fields(cls)]
