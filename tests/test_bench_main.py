"""`python -m bench`: a benchmark that fails does not lose the results of the others."""

from __future__ import annotations

import json
import sys
import types

import pytest

import bench.__main__ as bench_main


def test_a_failing_benchmark_is_reported_and_the_others_still_print(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails() -> dict[str, object]:
        raise RuntimeError("the emulator did not start")

    for name, run in [
        ("bench_first", lambda: {"ratio": 0.5}),
        ("bench_broken", fails),
        ("bench_last", lambda: {"seconds": 1.25}),
    ]:
        monkeypatch.setitem(sys.modules, f"bench.{name}", types.SimpleNamespace(run=run))
    monkeypatch.setattr(
        bench_main, "discover", lambda names: ["bench_first", "bench_broken", "bench_last"]
    )
    assert bench_main.main([]) == 1
    out, err = capsys.readouterr()
    results = json.loads(out[out.index("{") :])
    assert results == {"first": {"ratio": 0.5}, "last": {"seconds": 1.25}}
    assert "RuntimeError: the emulator did not start" in err
    assert err.rstrip().endswith("failed: bench_broken")


def test_every_benchmark_that_runs_exits_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(
        sys.modules, "bench.bench_only", types.SimpleNamespace(run=lambda: {"n": 1})
    )
    monkeypatch.setattr(bench_main, "discover", lambda names: ["bench_only"])
    assert bench_main.main([]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :]) == {"only": {"n": 1}}
