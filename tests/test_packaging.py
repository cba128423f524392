"""The wheel: one top-level package, everything it needs inside, and a working install.

Built and installed as a user would (`pip install .`, not editable) into a fresh virtual
environment, then the example is validated and run from a folder outside the repository
that also holds a `pipeline.py`, which must not shadow anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .reelsmith import write_spec

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.e2e


def _run(cmd: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kwargs
    )  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy holding only tracked files, as an sdist would: no .venv, no out/.
    src = tmp_path_factory.mktemp("src")
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = src / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, src])
    (found,) = out.glob("vidpipe-*.whl")
    return found


def test_the_wheel_has_one_top_level_package_and_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"vidpipe", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for needed in (
        "vidpipe/__main__.py",
        "vidpipe/storyboard.schema.json",
        "vidpipe/report.html.j2",
        "vidpipe/py.typed",
        "vidpipe/openapi/newapi.yaml",
        "vidpipe/openapi/anyfast_sora.yaml",
        "vidpipe/openapi/shared/videos.yaml",
        "vidpipe/openapi/shared/generations.yaml",
        "vidpipe/openapi/openapi-python-client.yaml",
        "vidpipe/openapi/generator-templates/index.py.jinja",
        "vidpipe/openapi/generator-templates/client.py.jinja",
        "vidpipe/prompt_templates/closeup.j2",
        "vidpipe/generated/newapi/client.py",
        "vidpipe/generated/anyfast_seedance/api/__init__.py",
        "vidpipe/emulator/app.py",
        "vidpipe/starter/storyboard.yaml",
        "vidpipe/starter/templates/scene.j2",
    ):
        assert needed in names, needed


def test_installed_wheel_runs_the_example_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel])

    work = tmp_path / "elsewhere"
    # (without the state and output a local `make demo` leaves: every shot is made here)
    shutil.copytree(ROOT / "examples", work, ignore=shutil.ignore_patterns(".vidpipe", "out"))
    # A user's own module named like a project folder must not be picked up.
    (work / "pipeline.py").write_text("raise SystemExit('the wrong pipeline was imported')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["NO_COLOR"] = "1"

    checked = _run([bin_dir / "vidpipe", "validate", "storyboard.yaml"], cwd=work, env=env)
    assert "ok" in checked.stdout
    ran = _run(
        [bin_dir / "python", "-m", "vidpipe", "run", "storyboard.yaml", "--json"],
        cwd=work,
        env=env,
    )
    summary = json.loads(ran.stdout)
    assert summary["shots"], summary
    assert {s["status"] for s in summary["shots"].values()} == {"done"}, summary
    for shot in summary["shots"].values():
        video = (work / shot["file"]).resolve()
        assert video.parent == (work / "out" / "sunflower-cat").resolve()
        assert video.stat().st_size > 1000
    assert (work / "out" / "sunflower-cat" / "final.mp4").is_file()
    # `vidpipe init` works from the installed package: a first storyboard of one's own.
    _run([bin_dir / "vidpipe", "init", "mine"], cwd=work, env=env)
    started = _run([bin_dir / "vidpipe", "validate", "storyboard.yaml"], cwd=work / "mine", env=env)
    assert "ok" in started.stdout
    # The installed package is the one that ran, not the repository's folders.
    where = _run(
        [bin_dir / "python", "-c", "import vidpipe; print(vidpipe.__file__)"], cwd=work, env=env
    )
    assert str(env_dir) in where.stdout

    # A user's own spec needs its client generated: without the `specs` extra, a clear error.
    write_spec(work / "mine")
    board = work / "reels.yaml"
    board.write_text(
        "name: reels\nspecs: mine\nproviders: {reel: {api: reelsmith}}\n"
        "shots: [{id: a, prompt: x, model: reel-1, duration: 1, size: 256x144}]\n"
    )
    env["VIDPIPE_CLIENT_CACHE"] = str(tmp_path / "clients")
    refused = subprocess.run(
        [bin_dir / "vidpipe", "validate", board], cwd=work, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "pip install 'vidpipe[specs]'" in refused.stderr
