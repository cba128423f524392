"""Plain-text tables for the command line: a header row, then columns padded to fit.

SHOT   STATE   FINGERPRINT
storm  cached  0c1f6a2b9e44
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["EMPTY", "table"]

#: What an empty cell shows, so that every column of every row has a word.
EMPTY = "-"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a table: `header`, then `rows`, each cell left-aligned in its column.

    Empty cells show as `EMPTY`; the last column is not padded.
    """
    cells = [list(header), *([c or EMPTY for c in row] for row in rows)]
    for row in cells:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells, the header {len(header)}")
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
