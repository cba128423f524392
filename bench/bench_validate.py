"""How long `vidpipe validate` takes on a 1000-shot storyboard, against reading its YAML.

The storyboard repeats the example's six kinds of shot (templates with vars, inline
prompts, local images, a remix, params, three providers and five specs), so every check a
run makes before sending is exercised: the structure against the JSON Schema, templates,
files, remix targets and every create request against its spec.

- validate_vs_safe_load: the `validate` command as a user runs it, once in a fresh
  process (modules imported, nothing cached: the specs are read, the templates compiled)
  / a bare `yaml.safe_load` of the same file in that process. Best of a few processes.
  The goal is 2 or less.
- warm_validate_vs_safe_load: the same, repeated in one process (specs, templates and
  prompts already compiled).
- validate_seconds, safe_load_seconds: the two times of the fresh process (only
  meaningful within one run).
- libyaml: whether PyYAML has its C parser here, which vidpipe reads storyboards with
  (the bare `yaml.safe_load` it is compared with is PyYAML's pure-Python one).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import CliRunner

import vidpipe.runner  # noqa: F401  (imported before timing: startup is not a check)
from vidpipe.cli import main

SHOTS = 1000
REPEATS = 5
PROCESSES = 3
ROOT = Path(__file__).resolve().parents[1]
# Unset while validating, so every provider is the embedded emulator.
ENV = [f"{p}_{v}" for p in ("ANYFAST", "APIFREE", "NEWAPI") for v in ("BASE_URL", "API_KEY")]

HEADER = """\
version: 1
name: bench-validate
seed: 1234
providers:
  anyfast: {api: anyfast, base_url: "${ANYFAST_BASE_URL:-embedded}", api_key: "${ANYFAST_API_KEY:-}"}
  apifree: {api: apifree, base_url: "${APIFREE_BASE_URL:-embedded}", api_key: "${APIFREE_API_KEY:-}"}
  gateway: {api: newapi, base_url: "${NEWAPI_BASE_URL:-embedded}", api_key: "${NEWAPI_API_KEY:-}"}
defaults: {provider: anyfast, model: sora-2, seconds: 4, size: 1280x720}
vars:
  hero: a ginger cat in a blue scarf
  place: a sunflower field on a hillside
  light: golden hour
shots:
"""

# One group of six shots; `{n}` makes the ids unique.
GROUP = """\
  - id: establish-{n}
    template: establishing.j2
    vars: {{action: "walks slowly between the tall stems", mood: [calm, warm]}}
    image: assets/poster.png
  - id: closeup-{n}
    model: seedance-fast
    template: closeup.j2
    vars: {{emotion: curious, details: [whiskers twitching, a bee on a petal]}}
    image: assets/poster.png
    duration: 5
    params: {{generate_audio: false}}
  - id: night-{n}
    remix: establish-{n}
    template: remix.j2
    vars: {{change: "at night under a sky full of stars", keep: [the cat, the scarf]}}
  - id: poster-{n}
    model: happyhorse-1.0-i2v
    image: assets/poster.png
    prompt: "Camera slowly zooms in, {{{{ hero }}}} blinks, petals drift past"
    duration: 4
    params: {{watermark: false}}
  - id: drone-{n}
    provider: apifree
    model: video-model-id
    prompt: "A drone shot rising over {{{{ place }}}}, {{{{ light }}}}, {{{{ hero }}}} far below"
  - id: finale-{n}
    provider: gateway
    model: kling-video
    prompt: "{{{{ hero | capitalize }}}} curls up to sleep among the sunflowers ({n})"
    duration: 4
"""


def storyboard_text(shots: int = SHOTS) -> str:
    """A storyboard of `shots` shots (a multiple of six is exact; the rest are cut)."""
    groups = "".join(GROUP.format(n=n) for n in range(-(-shots // 6)))
    lines = groups.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("  - id: ")]
    cut = starts[shots] if shots < len(starts) else len(lines)
    return HEADER + "".join(lines[:cut])


def _best(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """The fastest of `repeats` runs, in seconds: the least disturbed by other work."""
    return min(timeit.repeat(action, number=1, repeat=repeats))


def _command(board: Path) -> Callable[[], None]:
    """`vidpipe validate BOARD`, in this process, on the embedded emulator's defaults."""
    runner = CliRunner(env={name: None for name in ENV})

    def validate() -> None:
        result = runner.invoke(main, ["validate", str(board)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert f"ok ({SHOTS} shots" in result.output, result.output

    return validate


def _safe_load(board: Path) -> Callable[[], None]:
    def safe_load() -> None:
        with board.open(encoding="utf-8") as stream:
            yaml.safe_load(stream)

    return safe_load


def fresh(board: str) -> None:
    """In a new process: print the first `validate` and a `safe_load`, in seconds, as JSON."""
    validate_s = _best(_command(Path(board)), repeats=1)
    safe_load_s = _best(_safe_load(Path(board)), repeats=3)
    print(json.dumps({"validate": validate_s, "safe_load": safe_load_s}))


def _in_fresh_process(board: Path) -> dict[str, float]:
    code = f"from bench.bench_validate import fresh; fresh({str(board)!r})"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    times: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return times


def run() -> dict[str, object]:
    """Validate a generated 1000-shot storyboard and read the same file with yaml.safe_load."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(ROOT / "examples" / "assets", folder / "assets")
        board = folder / "storyboard.yaml"
        board.write_text(storyboard_text(), encoding="utf-8")
        cold = min(
            (_in_fresh_process(board) for _ in range(PROCESSES)),
            key=lambda t: t["validate"] / t["safe_load"],
        )
        warm_s = _best(_command(board))
        safe_load_s = _best(_safe_load(board))
    return {
        "shots": SHOTS,
        "validate_seconds": round(cold["validate"], 4),
        "safe_load_seconds": round(cold["safe_load"], 4),
        "validate_vs_safe_load": round(cold["validate"] / cold["safe_load"], 3),
        "warm_validate_vs_safe_load": round(warm_s / safe_load_s, 3),
        "libyaml": bool(yaml.__with_libyaml__),
    }
