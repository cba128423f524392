"""The `vidpipe` command. The only place errors become messages and exit codes.

Exit codes: 0 every shot done; 1 a shot failed at the provider (the others still finish);
2 bad input or an unusable state dir, with nothing sent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from . import __version__
from .errors import InputError, StateError, VidpipeError

F = TypeVar("F", bound=Callable[..., Any])


def _fail(lines: list[str], code: int) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(code)


def errors_to_exit_codes(func: F) -> F:
    """Turn vidpipe errors into one line each on stderr and the documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            _fail([str(p) for p in exc.problems], 2)
        except StateError as exc:
            _fail([str(exc)], 2)
        except VidpipeError as exc:
            _fail([str(exc)], 1)
        except KeyboardInterrupt:
            click.echo("interrupted: rerun the same command to resume", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problems.append(f"--var {pair!r}: expected NAME=VALUE")
            continue
        try:
            out[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    if problems:
        raise InputError(problems[0])
    return out


def _load(file: Path, var: tuple[str, ...]) -> Any:
    from .loading import load

    return load(file, vars=_parse_vars(var))


storyboard_arg = click.argument(
    "file", type=click.Path(path_type=Path, dir_okay=False, exists=False)
)
var_option = click.option(
    "--var", multiple=True, metavar="NAME=VALUE", help="Override a storyboard variable."
)
state_option = click.option(
    "--state",
    "state_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="State dir (default: .vidpipe/ next to the storyboard).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vidpipe")
def main() -> None:
    """Turn a YAML storyboard into finished AI-generated videos."""


@main.command()
@storyboard_arg
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out"),
    show_default=True,
    help="Output root; files go to OUT/<name>/.",
)
@state_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Shots in flight at once.",
)
@click.option(
    "--only", multiple=True, metavar="SHOT", help="Run only these shots (and their remix sources)."
)
@click.option(
    "--force", multiple=True, metavar="SHOT", help="Generate this shot again even if cached."
)
@click.option("--force-all", is_flag=True, help="Generate every shot again.")
@click.option(
    "--poll-deadline",
    type=float,
    default=1800.0,
    show_default=True,
    help="Seconds a task may take before it is reported.",
)
@click.option(
    "--job-seconds", type=float, default=None, help="Embedded emulator: seconds each task takes."
)
@var_option
@click.option("--json", "as_json", is_flag=True, help="Print one machine-readable summary.")
@errors_to_exit_codes
def run(
    file: Path,
    out_dir: Path,
    state_dir: Path | None,
    concurrency: int,
    only: tuple[str, ...],
    force: tuple[str, ...],
    force_all: bool,
    poll_deadline: float,
    job_seconds: float | None,
    var: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run a storyboard: every shot templated, submitted, polled, downloaded, and the final cut."""
    from .display import PlainDisplay, display_for
    from .runner import RunOptions
    from .runner import run as run_storyboard

    storyboard = _load(file, var)
    emulator_config = None
    if job_seconds is not None:
        from emulator import EmulatorConfig

        emulator_config = EmulatorConfig(job_seconds=job_seconds)
    options = RunOptions(
        out_dir=out_dir,
        state_dir=state_dir,
        concurrency=concurrency,
        only=only,
        force=force,
        force_all=force_all,
        poll_deadline=poll_deadline,
        argv=tuple(sys.argv),
        emulator=emulator_config,
    )
    display = PlainDisplay(storyboard.shot_ids) if as_json else display_for(storyboard.shot_ids)
    with display:
        result = run_storyboard(storyboard, options, on_event=display)
    if as_json:
        click.echo(json.dumps(result.summary(), indent=2))
    else:
        _print_result(result)
    sys.exit(result.exit_code)


def _print_result(result: Any) -> None:
    counts = ", ".join(f"{n} {status}" for status, n in result.counts().items())
    click.echo(f"{result.name}: {counts} in {result.finished_at - result.started_at:.1f} s")
    for shot in result.shots:
        where = shot.file if shot.file else shot.error
        click.echo(f"  {shot.shot_id:<16} {shot.status:<8} {where}")
    if result.final is not None:
        click.echo(
            f"  {'final':<16} {'done' if result.final.file else 'skipped':<8} "
            f"{result.final.file or result.final.error}"
        )
    click.echo(f"manifest: {result.manifest}")
    click.echo(f"report:   {result.report}")


@main.command()
@storyboard_arg
@state_option
@var_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@errors_to_exit_codes
def plan(file: Path, state_dir: Path | None, var: tuple[str, ...], as_json: bool) -> None:
    """Show what a run would send, in DAG order, and what is cached. Sends nothing."""
    from .runner import plan as make_plan

    planned = make_plan(_load(file, var), state_dir=state_dir)
    if as_json:
        click.echo(json.dumps([p.to_json() for p in planned], indent=2))
        return
    for p in planned:
        info = p.to_json()
        click.echo(
            f"[{p.level}] {p.shot_id}  ({p.state})  {info['endpoint']}  "
            f"{p.provider}/{info['spec']}  model={info['model']}"
        )
        if p.request.remix_of:
            click.echo(f"    remix of {p.request.remix_of} via {p.request.remix_via}")
        seed = info["seed"]
        click.echo(
            f"    seed: {seed if seed is not None else '-'}"
            f"{'' if info['seed_sent'] else ' (not sent: this API takes no seed)'}"
        )
        for key, value in info["request"].items():
            click.echo(f"    {key}: {json.dumps(value)}")
        click.echo(f"    fingerprint: {p.fingerprint[:16]}")


@main.command()
@storyboard_arg
@var_option
@errors_to_exit_codes
def validate(file: Path, var: tuple[str, ...]) -> None:
    """Check a storyboard against its providers' specs. Sends nothing."""
    from .requests import build_requests
    from .specs import default_registry

    storyboard = _load(file, var)
    build_requests(storyboard, default_registry())
    click.echo(f"{file}: ok ({len(storyboard.shots)} shots)")


@main.command()
def schema() -> None:
    """Print the storyboard JSON Schema (for editors)."""
    from .loading import storyboard_schema

    click.echo(json.dumps(storyboard_schema(), indent=2))


@main.command()
@storyboard_arg
@state_option
@var_option
@click.option("--json", "as_json", is_flag=True)
@errors_to_exit_codes
def status(file: Path, state_dir: Path | None, var: tuple[str, ...], as_json: bool) -> None:
    """Show the ledger's view of every shot of a storyboard."""
    from .runner import plan as make_plan

    planned = make_plan(_load(file, var), state_dir=state_dir)
    rows = [{"shot": p.shot_id, "state": p.state, "fingerprint": p.fingerprint} for p in planned]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['shot']:<20} {row['state']:<10} {row['fingerprint'][:16]}")


@main.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@state_option
@click.option("--limit", type=int, default=20, show_default=True)
@errors_to_exit_codes
def history(file: Path | None, state_dir: Path | None, limit: int) -> None:
    """List past runs recorded in a state dir."""
    from .statedir import DEFAULT_DIRNAME, StateDir

    if state_dir is None:
        state_dir = (file.parent if file else Path.cwd()) / DEFAULT_DIRNAME
    state = StateDir(state_dir)
    if not state.ledger_path.exists():
        raise StateError(f"no runs recorded in {state_dir}")
    with state.open_ledger() as ledger:
        for r in ledger.runs(limit):
            took = f"{r.finished_at - r.started_at:.1f}s" if r.finished_at else "-"
            click.echo(
                f"#{r.id:<4} {r.started_at:%Y-%m-%d %H:%M:%S}  {r.status:<8} {took:>8}  "
                f"{r.name}  {r.storyboard}"
            )


@main.group()
def specs() -> None:
    """Work with the provider specs."""


@specs.command("check-docs")
@click.argument("document", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@errors_to_exit_codes
def check_docs(document: Path, spec: Path) -> None:
    """Report fields and enum values of DOCUMENT that SPEC lacks (and extras it claims)."""
    from .doccheck import check_document

    result = check_document(document, spec)
    for line in result.lines():
        click.echo(line)
    if result.ok:
        click.echo(f"{spec.name}: every parameter and value of {document.name} is in the spec")
    sys.exit(0 if result.ok else 1)


@specs.command("list")
def list_specs() -> None:
    """List the specs, their API family and models."""
    from .specs import default_registry

    for s in default_registry():
        models = s.models()
        shown = (
            ", ".join(models[:4]) + (" ..." if models and len(models) > 4 else "")
            if models
            else "any"
        )
        click.echo(f"{s.name:<20} api={s.api:<8} {s.family:<12} {s.document}  models: {shown}")


def _register_emulator() -> None:
    try:
        from emulator.cli import emulator_command
    except ImportError:  # pragma: no cover - the emulator ships with vidpipe
        return
    main.add_command(emulator_command, "emulator")


_register_emulator()
