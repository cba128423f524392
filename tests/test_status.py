"""`vidpipe status` prints a header row over its columns."""

from __future__ import annotations

from pathlib import Path

from .test_cli import run_tiny, tiny, vidpipe


def test_status_prints_a_header_row(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    before = vidpipe("status", board)
    assert before.exit_code == 0, before.output
    header, *rows = before.stdout.splitlines()
    columns = ["SHOT", "STATE", "FINGERPRINT", "TASK", "TASK STATUS", "PROGRESS", "NOTE"]
    assert [c.strip() for c in header.split("  ") if c] == columns
    assert [r.split()[:2] for r in rows] == [["one", "new"], ["two", "new"], ["three", "new"]]
    assert run_tiny(board).exit_code == 0
    header, *rows = vidpipe("status", board).stdout.splitlines()
    # Each value starts where its column's name starts.
    at = header.index("TASK STATUS")
    assert all(row[at:].startswith("succeeded") for row in rows), rows
    assert all(row[header.index("PROGRESS") :].startswith("100 %") for row in rows), rows
