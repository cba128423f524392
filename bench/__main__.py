"""Run every benchmark module (or those named on the command line) and print the results.

python -m bench            # all of bench/bench_*.py
python -m bench render     # only bench/bench_render.py

A benchmark that fails is reported with its traceback and the others still run; the results
of those that ran are printed, and the exit status is 1.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path


def discover(names: Sequence[str] = ()) -> list[str]:
    """Module names of the benchmarks, optionally only those whose name contains one of `names`."""
    folder = Path(__file__).resolve().parent
    found = sorted(
        info.name for info in pkgutil.iter_modules([str(folder)]) if info.name.startswith("bench_")
    )
    if names:
        found = [name for name in found if any(wanted in name for wanted in names)]
    return found


def format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(results: dict[str, dict[str, object]]) -> str:
    rows = [("benchmark", "metric", "value")]
    for bench, metrics in results.items():
        rows.extend((bench, metric, format_value(value)) for metric, value in metrics.items())
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}" for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    modules = discover(argv)
    if not modules:
        print(f"no benchmark matches {' '.join(argv)!r}", file=sys.stderr)
        return 2
    results: dict[str, dict[str, object]] = {}
    failed: list[str] = []
    for name in modules:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            results[name.removeprefix("bench_")] = dict(module.run())
        except Exception:
            traceback.print_exc()
            failed.append(name)
    print(table(results))
    print()
    print(json.dumps(results, indent=2, sort_keys=True))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
