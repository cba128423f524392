"""The manifest's JSON: laid out as `json.dumps(indent=2)` would, written entry by entry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vidpipe.manifest import _json_chunks

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
