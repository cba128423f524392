"""What a run loads: the final cut's module (PyAV and numpy) only for a final cut."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BOARD = """\
version: 1
name: light
providers: {gw: {api: apifree}}
defaults: {provider: gw, model: any-model, seconds: 4, size: 320x180}
shots:
  - {id: one, prompt: "one"}
"""

SCRIPT = """
import sys
from pathlib import Path
from vidpipe.api import embedded_emulator, run
from vidpipe.runner import RunOptions
tmp = Path(sys.argv[1])
options = RunOptions(out_dir=tmp / "out", gateway=embedded_emulator(job_seconds=0))
assert run(tmp / "board.yaml", options).ok
print("vidpipe.assemble" in sys.modules)
"""


def loaded_after_a_run(tmp_path: Path, board: str) -> str:
    (tmp_path / "board.yaml").write_text(board)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_a_run_without_a_final_cut_does_not_load_the_cutter(tmp_path: Path) -> None:
    # (the embedded emulator renders with PyAV itself, so the module is what is checked)
    assert loaded_after_a_run(tmp_path, BOARD) == "False"


def test_a_final_cut_loads_it(tmp_path: Path) -> None:
    board = BOARD.replace("shots:", "final: {concat: [one]}\nshots:")
    assert loaded_after_a_run(tmp_path, board) == "True"
