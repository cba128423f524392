"""Regenerate the clients in generated/ from the specs in specs/ (`make regen`).

Each spec `specs/NAME.yaml` becomes the package `generated/NAME/`, produced by the pinned
openapi-python-client with `specs/openapi-python-client.yaml` and the template overrides in
`specs/generator-templates/`. Output is built in a temporary folder and only swapped in when
every spec generated without warnings, so a failed run leaves generated/ as it was. No
network is used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import SpecError
from .specs import GENERATOR_CONFIG, spec_files

#: Template overrides for the generator (`--custom-template-path`).
TEMPLATES = "generator-templates"


def _generator() -> list[str]:
    exe = Path(sys.executable).with_name("openapi-python-client")
    if not exe.exists():
        found = shutil.which("openapi-python-client")
        if found is None:
            raise SpecError(
                "openapi-python-client is not installed; install the dev extra: pip install -e '.[dev]'"
            )
        exe = Path(found)
    return [str(exe)]


def generate_one(spec: Path, out: Path, config: Path, templates: Path) -> None:
    """Generate one client package from `spec` into the folder `out`."""
    env = dict(os.environ)
    # The post hooks call ruff: use the pinned one that sits beside this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [
        *_generator(),
        "generate",
        "--path",
        str(spec),
        "--output-path",
        str(out),
        "--meta",
        "none",
        "--config",
        str(config),
        "--custom-template-path",
        str(templates),
        "--overwrite",
        "--fail-on-warning",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out.parent)
    text = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or "Warning" in text or "not in PATH" in text:
        raise SpecError(f"generation failed:\n{text}", spec=str(spec))


def regenerate(spec_dir: Path, out_dir: Path) -> list[Path]:
    """Regenerate every client into `out_dir`; returns the package folders written."""
    specs = spec_files(spec_dir)
    if not specs:
        raise SpecError(f"no specs found in {spec_dir}")
    config = (spec_dir / GENERATOR_CONFIG).resolve()
    templates = (spec_dir / TEMPLATES).resolve()
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".regen-", dir=out_dir) as tmp:
        staging = Path(tmp)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            jobs = [
                pool.submit(generate_one, spec.resolve(), staging / spec.stem, config, templates)
                for spec in specs
            ]
            for job in jobs:
                job.result()
        written = []
        for spec in specs:
            target = out_dir / spec.stem
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(staging / spec.stem), target)
            written.append(target)
    stale = {p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    for old in stale - set(written):
        if (old / "client.py").exists():  # only ever remove what the generator made
            shutil.rmtree(old)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--specs", type=Path, default=Path("specs"))
    parser.add_argument("--out", type=Path, default=Path("generated"))
    args = parser.parse_args(argv)
    try:
        for path in regenerate(args.specs, args.out):
            print(f"generated {path}")
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
