"""The import contracts of docs/architecture.md (pyproject's [tool.importlinter]).

Each contract is checked on a copy of the package with one forbidden import added: the
copy must break exactly that contract, so a contract that checks nothing fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# How setup.py maps the folders into the package.
LAYOUT = {
    "vidpipe": "pipeline",
    "vidpipe/emulator": "emulator",
    "vidpipe/generated": "generated",
    "vidpipe/openapi": "specs",
    "vidpipe/prompt_templates": "templates",
}


def package_copy(tmp_path: Path) -> Path:
    """A copy of the package laid out as installed; returns the folder holding `vidpipe`."""
    root = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__")
    for target, folder in LAYOUT.items():
        shutil.copytree(ROOT / folder, root / target, ignore=ignore, dirs_exist_ok=True)
    return root


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        timeout=300,
    )


def broken(output: str) -> list[str]:
    """The names of the contracts lint-imports reports broken."""
    return [m.group(1) for m in re.finditer(r"^(.+) BROKEN\b", output, re.MULTILINE)]


def test_the_package_keeps_every_contract(tmp_path: Path) -> None:
    done = lint_imports(package_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "vidpipe/runner/sneaky.py",
            "from ..emulator import EmbeddedEmulator",
            "Only the CLI and the public API (vidpipe.api) import the emulator",
        ),
        (
            "vidpipe/ledger/sneaky.py",
            "from .. import api",
            "Nothing below the CLI and the public API imports them",
        ),
        (
            "vidpipe/emulator/sneaky.py",
            "from ..ledger import Ledger",
            "The emulator imports only the core",
        ),
        (
            "vidpipe/emulator/deeper/sneaky.py",
            "from ...transport import Connection",
            "The emulator imports only the core",
        ),
        (
            "vidpipe/states.py",
            "from .loading import load",
            "The core imports only the core",
        ),
        (
            "vidpipe/sneaky.py",
            "from . import codegen",
            "Nothing imported at run time imports the code generator",
        ),
        (
            "vidpipe/generated/sneaky.py",
            "from ..errors import VidpipeError",
            "Generated clients import nothing of vidpipe",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = package_copy(tmp_path)
    path = tree / module
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in path.relative_to(tree).parents:
        init = tree / folder / "__init__.py"
        if folder != Path(".") and not init.exists():
            init.write_text("")
    before = path.read_text() if path.exists() else ""
    path.write_text(f"{before}\n{line}\n")
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert broken(done.stdout) == [contract], done.stdout
