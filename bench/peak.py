"""Peak resident memory of this process, in MB.

`ru_maxrss` is no good for a child process: Linux keeps it across `exec`, so a child
started from a large parent (`python -m bench` after a memory-hungry benchmark) reports
the parent's peak. The high-water mark of the process's own memory (`VmHWM`) starts
afresh with the program `exec` loaded.

`python -m bench.peak FILE MODULE ARGS...` runs `python -m MODULE ARGS...` and writes its
peak to FILE as it exits.
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (not Linux?)")


def main(argv: list[str]) -> None:
    out, module, *args = argv
    atexit.register(lambda: Path(out).write_text(f"{peak_rss_mb()}\n"))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
