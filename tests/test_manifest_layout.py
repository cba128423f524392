"""The manifest's JSON: laid out as `json.dumps(indent=2)` would, written entry by entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from vidpipe.manifest import _Entries, _json_chunks

DOCS: list[dict[str, Any]] = [
    {"name": "a", "shots": {}, "notes": [], "final": None},
    {"name": "é", "shots": {"s1": {"prompt": "un chat « roux »\nline", "n": [1, 2.5, {}]}}},
    {
        "shots": {"a": {"timings": {"seconds": 0.071}}, "b": {"x": [], "y": {"z": True}}},
        "variants": {"a": ["a[take=1]", "a[take=2]"]},
    },
    {"picks": {}},
    # An integer past 64 bits (a seed a spec does not bound) is written all the same.
    {"shots": {"big": {"request": {"seed": 2**70, "n": 1.5}}}, "seed": -(2**65)},
]


@pytest.mark.parametrize("doc", DOCS, ids=range(len(DOCS)))
def test_the_layout_is_json_dumps_indent_2(doc: dict[str, Any]) -> None:
    written = b"".join(_json_chunks(doc, "shots")).decode()
    assert written == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_the_streamed_member_is_written_one_entry_at_a_time() -> None:
    doc = {"name": "n", "shots": {f"s{i}": {"i": i} for i in range(50)}}
    chunks = list(_json_chunks(doc, "shots"))
    assert max(map(len, chunks)) < 40  # no chunk holds the whole member
    assert json.loads(b"".join(chunks)) == doc


def test_a_small_float_reads_back_the_same() -> None:
    doc = {"shots": {"a": {"spend_usd": 1e-7, "seconds": 2.5e-05}}}
    written = b"".join(_json_chunks(doc, "shots")).decode()
    assert json.loads(written) == doc
    assert "1e-7" in written  # orjson's spelling; json's would be 1e-07


def test_the_shots_entries_are_made_as_they_are_written() -> None:
    made: list[str] = []

    class Shot:
        def __init__(self, i: int) -> None:
            self.shot_id = f"s{i}"

        def manifest_entry(self, out_dir: Path) -> dict[str, Any]:
            made.append(self.shot_id)
            return {"file": str(out_dir / f"{self.shot_id}.mp4")}

    entries = _Entries(cast(Any, [Shot(i) for i in range(50)]), Path("out"))
    chunks = _json_chunks({"name": "n", "shots": entries}, "shots")
    first = [next(chunks) for _ in range(5)]  # the name, then the first entry
    assert made == ["s0"] and first[-1].startswith(b"{")
    written = b"".join([*first, *chunks])
    assert len(made) == 50  # each made once, as it is written
    expected = {"name": "n", "shots": {f"s{i}": {"file": f"out/s{i}.mp4"} for i in range(50)}}
    assert written.decode() == json.dumps(expected, indent=2) + "\n"
