"""The download benchmark runs end to end on a small video (the real one takes 1 GiB and a
minute and is not part of the suite): both clients take the whole body from the emulator,
each in a process of its own, after the same warm-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_download import side_by_side, warm_memory
from vidpipe.pool import DIRECT_BYTES


def test_warm_memory_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    warm_memory(tmp_path, (3 << 20) + 1)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")  # the SDK's own
def test_both_clients_take_a_video_large_enough_to_be_read_past_h11() -> None:
    size = DIRECT_BYTES + (8 << 20)  # large enough for vidpipe's direct read
    found = side_by_side(size=size, rounds=1)
    assert found["file_mib"] == size >> 20  # side_by_side also checks each client's size
    for key in ("vidpipe_mib_s", "sdk_mib_s", "throughput_vs_sdk", "vidpipe_peak_rss_mb"):
        value = found[key]
        assert isinstance(value, float) and value > 0, key
