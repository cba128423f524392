"""The `vidpipe` command. The only place errors become messages and exit codes.

Exit codes: 0 every shot done; 1 a shot failed at the provider (the others still finish);
2 bad input or an unusable state dir, with nothing sent; 128 + the signal's number for a run
stopped by a signal (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click
import yaml

from .errors import InputError, Problem, StateError, VidpipeError
from .shotargs import ShotListCommand, split_ids
from .version import __version__

if TYPE_CHECKING:
    from .ledger import Ledger
    from .manifest import RunResult
    from .model import Storyboard
    from .pricing import Price
    from .runner import Checked, PlannedShot
    from .specs import SpecRegistry

F = TypeVar("F", bound=Callable[..., Any])


def _count(number: int, word: str) -> str:
    """ "1 shot", "3 shots"."""
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def _fail(lines: list[str], code: int) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(code)


def _warn(warnings: Any) -> None:
    """Each warning (a Problem: file, line and message) as one line on stderr."""
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


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
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, _Stopped) else signal.SIGINT
            by = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
            click.echo(
                f"interrupted{by}: every task already created is recorded (and any --force);"
                " run the same command again, or a plain `vidpipe run`, to resume them"
                " without paying twice",
                err=True,
            )
            sys.exit(128 + signum)

    return wrapper  # type: ignore[return-value]


class _Stopped(KeyboardInterrupt):
    """A run stopped by SIGTERM or SIGHUP, which it treats as Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _stops_like_ctrl_c() -> Iterator[None]:
    """While a run goes on, SIGTERM (`kill`, a service manager, a CI job's timeout) and
    SIGHUP (its terminal closed) stop it as Ctrl-C does: the running shots are cancelled
    and the ledger records the run as `interrupted`. Without this, the default action ended
    the process at once and the run stayed `running` until a later run found it abandoned.
    A signal that is ignored (`nohup`) or already handled is left as it is.

    Each signal is handed to whatever handles SIGINT at that moment (asyncio's runner
    cancels its main task; a second signal stops at once, as a second Ctrl-C does), and the
    exit code names the signal that came.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can set handlers (and receives signals)
        return
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:  # SIGINT ignored (a shell's background job): stop where the signal lands
            raise KeyboardInterrupt

    previous = {  # a signal the caller ignores (`nohup`) or handles stays as it is
        signum: signal.signal(signum, on_signal)
        for signum in (signal.SIGTERM, signal.SIGHUP)
        if signal.getsignal(signum) == signal.SIG_DFL
    }
    try:
        yield
    except KeyboardInterrupt as exc:
        if received and not isinstance(exc, _Stopped):
            raise _Stopped(received[0]) from None
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _parse_vars(pairs: tuple[str, ...], file: Path) -> tuple[dict[str, Any], list[Problem]]:
    """`--var NAME=VALUE` pairs (values read as YAML scalars) and the malformed ones."""
    out: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(f"--var {pair!r}: expected NAME=VALUE", str(file)))
            continue
        try:
            out[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out, problems


def _registry(spec_dirs: tuple[Path, ...]) -> SpecRegistry:
    """The shipped specs with the user's folders (`--specs`, VIDPIPE_SPECS) added; a folder
    or spec that cannot be read is bad input."""
    from .errors import SpecError
    from .specs import default_registry

    try:
        return default_registry().with_dirs(spec_dirs)
    except SpecError as exc:
        raise InputError(Problem(str(exc), "--specs")) from None


def _load(file: Path, var: tuple[str, ...], spec_dirs: tuple[Path, ...] = ()) -> Storyboard:
    """Load a storyboard; bad `--var`s are reported together with the file's problems."""
    from .loading import load

    values, problems = _parse_vars(var, file)
    try:
        storyboard = load(file, vars=values, registry=_registry(spec_dirs))
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    if problems:
        raise InputError(problems)
    return storyboard


def _checked(
    file: Path,
    var: tuple[str, ...],
    spec_dirs: tuple[Path, ...],
    only: tuple[str, ...] = (),
    force: tuple[str, ...] = (),
) -> tuple[Storyboard, Checked, SpecRegistry]:
    """Load and check a storyboard as a run would; also the specs it is checked against."""
    from .runner import check

    storyboard = _load(file, var, spec_dirs)
    registry = _registry(spec_dirs).with_dirs(storyboard.spec_dirs)
    checked = check(storyboard, only=only, force=force, registry=registry)
    _warn(checked.warnings)
    return storyboard, checked, registry


def _prices(file: Path | None) -> dict[str, Price]:
    """The prices of `--prices FILE` (none without it)."""
    from .loading.prices import load_prices_file

    if file is None:
        return {}
    if not file.is_file():
        raise InputError(f"--prices {file}: no such file")
    return load_prices_file(file)


def _planned(
    file: Path,
    var: tuple[str, ...],
    spec_dirs: tuple[Path, ...],
    state_dir: Path | None,
    prices: Path | None = None,
) -> tuple[Storyboard, list[PlannedShot]]:
    """Load a storyboard and plan it against its state dir, as `plan` and `status` show it."""
    from .runner import plan as make_plan

    storyboard = _load(file, var, spec_dirs)
    table = _prices(prices)
    planned = make_plan(
        storyboard, state_dir=state_dir, registry=_registry(spec_dirs), prices=table
    )
    return storyboard, planned


storyboard_arg = click.argument(
    "file", type=click.Path(path_type=Path, dir_okay=False, exists=False)
)
var_option = click.option(
    "--var", multiple=True, metavar="NAME=VALUE", help="Override a storyboard variable."
)
specs_option = click.option(
    "--specs",
    "spec_dirs",
    multiple=True,
    envvar="VIDPIPE_SPECS",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder of your own specs to add (repeatable; also VIDPIPE_SPECS, "
    "folders separated by the path separator). A spec named as a shipped one replaces it.",
)
prices_option = click.option(
    "--prices",
    "prices_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A prices file (model id -> price) over every other price (see README: Cost).",
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


@main.command(cls=ShotListCommand)
@storyboard_arg
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),  # checked with the other outputs, before anything is sent
    default=Path("out"),
    show_default=True,
    help="Output root; files go to OUT/<name>/.",
)
@state_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    default=4,
    show_default=True,
    help="Tasks in flight at once (a provider's own `concurrency` may allow fewer).",
)
@click.option(
    "--only",
    multiple=True,
    metavar="SHOT…",
    callback=split_ids,
    help="Run only these shots (and their remix sources): --only a b, --only a,b or repeated.",
)
@click.option(
    "--force",
    multiple=True,
    metavar="SHOT…",
    callback=split_ids,
    help="Generate these shots again even if cached (several as for --only).",
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
    "--status-grace",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a task may answer a status word its spec does not map before the shot "
    "fails (naming the word and the spec file to add it to).",
)
@click.option(
    "--job-seconds", type=float, default=None, help="Embedded emulator: seconds each task takes."
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    default=None,
    metavar="USD",
    help="The most this run may spend (over the storyboard's budget:). A quote above it sends "
    "nothing (exit 2); shots whose create would pass it end over-budget (exit 1).",
)
@click.option(
    "--allow-unpriced",
    is_flag=True,
    help="Let a budgeted run send shots whose price is not known (they count as nothing).",
)
@prices_option
@var_option
@specs_option
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
    status_grace: float,
    job_seconds: float | None,
    budget: float | None,
    allow_unpriced: bool,
    prices_file: Path | None,
    var: tuple[str, ...],
    spec_dirs: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Run a storyboard: every shot templated, submitted, polled, downloaded, and the final cut."""
    import stamina.instrumentation

    from .api import embedded_emulator
    from .api import run as run_storyboard
    from .display import PlainDisplay, display_for
    from .runner import RunOptions

    # The display is this command's output. stamina's default hook would log each retry at
    # WARNING, which with logging unconfigured prints a bare line into the display.
    stamina.instrumentation.set_on_retry_hooks(())
    storyboard, checked, registry = _checked(file, var, spec_dirs, only, force)
    prices = _prices(prices_file)
    options = RunOptions(
        out_dir=out_dir,
        state_dir=state_dir,
        concurrency=concurrency,
        only=only,
        force=force,
        force_all=force_all,
        poll_deadline=poll_deadline,
        status_grace=status_grace,
        argv=tuple(sys.argv),
        gateway=embedded_emulator(job_seconds=job_seconds, specs=registry),
        budget=budget,
        allow_unpriced=allow_unpriced,
        prices=prices,
        on_limits=lambda limits: click.echo(limits.text, err=True),
    )
    order = checked.order
    display = PlainDisplay(order) if as_json else display_for(order)
    with _stops_like_ctrl_c(), display:
        result = run_storyboard(
            storyboard, options, on_event=display, checked=checked, registry=registry
        )
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _print_result(result)
    sys.exit(result.exit_code)


def _print_result(result: RunResult) -> None:
    counts = ", ".join(f"{n} {status}" for status, n in result.counts.items())
    others = f" ({len(result.others)} more not in this run)" if result.others else ""
    seconds = result.finished_at - result.started_at
    click.echo(f"{result.name}: {counts} in {seconds:.1f} s{others}")
    cost = result.cost
    unpriced = f" + {cost['unpriced']} unpriced" if cost["unpriced"] else ""
    unreported = (
        f" ({cost['spend_unreported']} not reported by the gateway)"
        if cost["spend_unreported"]
        else ""
    )
    click.echo(
        f"cost: estimate ${cost['estimate_usd']:.2f}{unpriced},"
        f" spend reported ${cost['spend_usd']:.2f}{unreported}"
    )
    width = max([5, *(len(s) for s in result.shots)])
    for shot in result.shots.values():
        where = shot.file if shot.ok else shot.error
        click.echo(f"  {shot.shot_id:<{width}}  {shot.status:<8} {where}")
    final = result.final
    if final is not None:
        if result.final_status == "done":
            seconds_text = f" ({final.duration:.1f} s)" if final.duration else ""
            click.echo(f"  {'final':<{width}}  {'done':<8} {final.file}{seconds_text}")
        else:
            click.echo(f"  {'final':<{width}}  {result.final_status}: {final.error}")
    click.echo(f"manifest: {result.manifest}")
    click.echo(f"report:   {result.report}")


def _origin(base_url: str) -> str:
    """Where a provider's calls go, without any credentials written into the URL."""
    import httpx

    from .model import EMBEDDED

    if base_url == EMBEDDED:
        return "the embedded emulator"
    url = httpx.URL(base_url)
    return str(url.copy_with(username=None, password=None, query=None, fragment=None))


def _plan_json(storyboard: Storyboard, planned: list[PlannedShot]) -> dict[str, Any]:
    """What `vidpipe plan --json` prints: shots keyed by id, as `run --json` and `status`."""
    levels: list[list[str]] = []
    shots = {}
    for p in planned:
        if p.level == len(levels):
            levels.append([])
        levels[p.level].append(p.shot_id)
        info = p.to_json()
        info["prompt"] = storyboard.shot(p.shot_id).prompt
        info["base_url"] = _origin(p.base_url)
        shots[p.shot_id] = info
    from .runner.planned import run_quote

    cost = run_quote(planned).to_json()
    return {"name": storyboard.name, "levels": levels, "cost": cost, "shots": shots}


def _print_plan(storyboard: Storyboard, planned: list[PlannedShot]) -> None:
    doc = _plan_json(storyboard, planned)
    levels = doc["levels"]
    click.echo(
        f"{storyboard.name}: {_count(len(planned), 'shot')} in {_count(len(levels), 'level')} "
        "(a shot waits only for the shot it builds on); nothing is sent"
    )
    sources = {p.shot_id: p.request.remix_of for p in planned}
    for number, level in enumerate(levels):
        names = [f"{s} (remixes {sources[s]})" if sources[s] else s for s in level]
        click.echo(f"  level {number}: {', '.join(names)}")
    for p, info in zip(planned, doc["shots"].values(), strict=True):
        req = p.request
        click.echo("")
        why = f": {p.reason}" if p.reason else ""
        click.echo(f"{p.shot_id}  [level {p.level}, {p.state}{why}]")
        click.echo(f"  endpoint: {info['endpoint']} on {info['base_url']}")
        click.echo(f"  provider: {p.provider} (api {req.spec.api}, spec {req.spec.name})")
        click.echo(f"  model:    {req.model}")
        click.echo(f"  prompt:   {info['prompt']}")
        if req.remix_of:
            how = (
                f"its task id is sent as {req.remix_field}"
                if req.remix_via == "create-field"
                else "through the remix endpoint"
            )
            click.echo(f"  remix:    of {req.remix_of}; {how}")
        if req.frame_of:
            click.echo(f"  image:    {req.frame_of.describe()}, taken once that video is made")
        if req.seed_sent:
            click.echo(f"  seed:     {req.seed}")
        else:
            click.echo("  seed:     none (this API takes no seed: not seed-reproducible)")
        click.echo("  request:")
        for key, value in info["request"].items():
            click.echo(f"    {key}: {json.dumps(value)}")
        click.echo(f"  fingerprint: {p.fingerprint or 'known once its source has a task'}")
        if p.cost is not None:
            click.echo(f"  cost:     {_cost_line(p)}")
    from .runner.planned import run_quote

    quote = run_quote(planned)
    click.echo("")
    click.echo("quote:")
    for line in quote.lines():
        click.echo(line)
    click.echo(f"total: {quote.summary()}")


def _cost_line(p: PlannedShot) -> str:
    """A planned shot's estimate, and why it is free when it is."""
    from .pricing import dollars

    assert p.cost is not None
    est = p.cost.estimate
    price = est.price
    text = f"{dollars(est.usd)} ({est.why}"
    if price is not None:
        dated = f", {price.date}" if price.date else ""
        text += f"; {price.source}{dated}; from {price.origin}"
    text += ")"
    if p.cost.free:
        text = f"free: {p.cost.free}; one create is {text}"
    if p.cost.spend_usd is not None:
        text += f"; its task was charged {dollars(p.cost.spend_usd)}"
    return text


@main.command()
@storyboard_arg
@state_option
@prices_option
@var_option
@specs_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@errors_to_exit_codes
def plan(
    file: Path,
    state_dir: Path | None,
    prices_file: Path | None,
    var: tuple[str, ...],
    spec_dirs: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Show what a run would send, in DAG order, what is cached, and what it would cost.
    Sends nothing."""
    from .lifecycle import lifecycle_warnings

    storyboard, planned = _planned(file, var, spec_dirs, state_dir, prices_file)
    _warn(lifecycle_warnings(storyboard, {p.shot_id: p.request for p in planned}))
    if as_json:
        click.echo(json.dumps(_plan_json(storyboard, planned), indent=2))
    else:
        _print_plan(storyboard, planned)


@main.command()
@storyboard_arg
@var_option
@specs_option
@errors_to_exit_codes
def validate(file: Path, var: tuple[str, ...], spec_dirs: tuple[Path, ...]) -> None:
    """Check a storyboard against its providers' specs. Sends nothing."""
    storyboard, checked, _ = _checked(file, var, spec_dirs)
    providers = {storyboard.shot(s).provider for s in checked.order}
    shots, used = _count(len(checked.order), "shot"), _count(len(providers), "provider")
    click.echo(f"{file}: ok ({shots}, {used})")


@main.command()
@click.argument("shot")
@click.argument("take")
@click.argument(
    "file",
    required=False,
    default=Path("storyboard.yaml"),
    type=click.Path(path_type=Path, dir_okay=False),
)
@var_option
@specs_option
@errors_to_exit_codes
def pick(
    shot: str, take: str, file: Path, var: tuple[str, ...], spec_dirs: tuple[Path, ...]
) -> None:
    """Pick which take (or matrix variant) of SHOT the final cut and the shots built on it
    use: a take number, or a label such as model=veo3. Recorded in the lock file next to
    FILE (default: storyboard.yaml), which is meant to be committed with it."""
    from .loading.findings import suggest
    from .loading.picks import resolve_label, write_pick

    storyboard = _load(file, var, spec_dirs)
    group = storyboard.variants.get(shot)
    if group is None:
        hint = suggest(shot, storyboard.variants) or (
            f" (shots with takes or a matrix: {', '.join(storyboard.variants)})"
            if storyboard.variants
            else " (no shot has takes or a matrix)"
        )
        raise InputError(Problem(f"pick: shot {shot!r} has no takes or matrix{hint}", str(file)))
    label = resolve_label(shot, take, group)
    if label is None:
        offered = ", ".join(v[len(shot) + 1 : -1] for v in group)
        raise InputError(
            Problem(f"pick: {shot} has no take {take!r} (it has {offered})", str(file))
        )
    lock = write_pick(storyboard.path, shot, label)
    users = [s.id for s in storyboard.shots if storyboard.picks[shot] in s.depends_on]
    final = storyboard.final
    followers = ["the final cut"] if final and storyboard.picks[shot] in final.concat else []
    if users:
        followers.append(f"{_count(len(users), 'shot')} built on it ({', '.join(users)})")
    then = f"; {' and '.join(followers)} follow it from the next run" if followers else ""
    click.echo(f"{shot}: picked {label} in {lock}{then}")


@main.command()
def schema() -> None:
    """Print the storyboard JSON Schema (for editors)."""
    from .loading import storyboard_schema

    click.echo(json.dumps(storyboard_schema(), indent=2))


@main.command()
@storyboard_arg
@state_option
@prices_option
@var_option
@specs_option
@click.option("--json", "as_json", is_flag=True)
@errors_to_exit_codes
def status(
    file: Path,
    state_dir: Path | None,
    prices_file: Path | None,
    var: tuple[str, ...],
    spec_dirs: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Show the ledger's view of every shot of a storyboard, with estimate and spend."""
    from .pricing import dollars, money
    from .runner.planned import run_quote

    storyboard, planned = _planned(file, var, spec_dirs, state_dir, prices_file)
    spent = [p.cost.spend_usd for p in planned if p.cost and p.cost.spend_usd is not None]
    quote = run_quote(planned)
    if as_json:
        shots = {p.shot_id: p.status_json() for p in planned}
        cost = {"spend_usd": money(sum(spent)), "next_run": quote.to_json()}
        click.echo(json.dumps({"name": storyboard.name, "cost": cost, "shots": shots}, indent=2))
        return
    from .tables import table

    rows = [
        (
            p.shot_id,
            p.state,
            (p.fingerprint or "-")[:12],
            p.task_id or "",
            p.task_status or "",
            f"{p.progress} %" if p.progress is not None else "",
            dollars(p.cost.estimate.usd) if p.cost else "",
            dollars(p.cost.spend_usd) if p.cost else "",
            "  ".join(v for v in (p.error, p.reason) if v),
        )
        for p in planned
    ]
    header = (
        "SHOT",
        "STATE",
        "FINGERPRINT",
        "TASK",
        "TASK STATUS",
        "PROGRESS",
        "ESTIMATE",
        "SPEND",
        "NOTE",
    )
    for line in table(header, rows):
        click.echo(line)
    click.echo(f"spend reported: ${sum(spent):.2f}; a run now: {quote.summary()}")


class _HistoryGroup(click.Group):
    """`vidpipe history [FILE]` lists runs: a first word that is no subcommand means `list`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_HistoryGroup)
def history() -> None:
    """Past runs recorded in a state dir: `history [FILE]` lists them, `history show RUN`
    shows one."""


def _history_ledger(file: Path | None, state_dir: Path | None) -> Ledger:
    from .statedir import DEFAULT_DIRNAME, StateDir

    if state_dir is None:
        state_dir = (file.absolute().parent if file else Path.cwd()) / DEFAULT_DIRNAME
    state = StateDir(state_dir)
    if not state.ledger_path.exists():
        raise StateError(f"no runs recorded in {state_dir}")
    return state.open_ledger()


history_file_arg = click.argument(
    "file", required=False, type=click.Path(path_type=Path, dir_okay=False)
)


@history.command("list")
@history_file_arg
@state_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@errors_to_exit_codes
def history_list(file: Path | None, state_dir: Path | None, limit: int, as_json: bool) -> None:
    """List the runs recorded next to FILE (or in --state, or ./.vidpipe), newest first."""
    from .history import RunView, history_lines

    with _history_ledger(file, state_dir) as ledger:
        runs = [RunView(r) for r in ledger.runs(limit)]
    if as_json:
        click.echo(json.dumps({"runs": [r.to_json() for r in runs]}, indent=2))
        return
    for line in history_lines(runs):
        click.echo(line)


@history.command("show")
@click.argument("run_id", metavar="RUN")
@history_file_arg
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@errors_to_exit_codes
def history_show(run_id: str, file: Path | None, state_dir: Path | None, as_json: bool) -> None:
    """Show one run (its number, as `history` lists it) and each of its shots."""
    from .history import RunView, run_lines, run_shots

    number = run_id.removeprefix("#")
    if not number.isdigit():
        raise click.BadParameter(
            f"expected a run number such as 3 or #3, not {run_id!r}", param_hint="'RUN'"
        )
    with _history_ledger(file, state_dir) as ledger:
        record = ledger.run(int(number))
        if record is None:
            raise StateError(f"no run #{int(number)} in {ledger.path.parent}")
        run = RunView(record)
        shots = run_shots(run, ledger)
    if as_json:
        click.echo(json.dumps({**run.to_json(), "shots": shots}, indent=2))
        return
    for line in run_lines(run, shots):
        click.echo(line)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@state_option
@var_option
@click.option("--yes", is_flag=True, help="Delete the files (without it, only list them).")
@errors_to_exit_codes
def gc(files: tuple[Path, ...], state_dir: Path | None, var: tuple[str, ...], yes: bool) -> None:
    """Prune cached videos that none of the storyboards FILE... needs any more.

    Kept: the files of every shot's current fingerprint, and the latest file of every shot
    (what out/ shows). A dry run unless --yes. Give every storyboard that shares the state
    dir: the files of one not given are not needed.
    """
    from rich.filesize import decimal

    from .prune import find_unneeded, prune

    storyboards = [_load(f, var) for f in files]
    shots = {s.path: len(s.shot_ids) for s in storyboards}
    click.echo("considered: " + ", ".join(f"{p} ({n} shots)" for p, n in shots.items()))
    total = 0
    groups = (
        prune(storyboards, state_dir, sys.argv) if yes else find_unneeded(storyboards, state_dir)
    )
    for found in groups:
        entries = len(found.keep) + len(found.unneeded)
        click.echo(
            f"{found.state.path}: {entries} files; {len(found.keep)} needed "
            f"({decimal(found.kept_bytes)}), {len(found.unneeded)} not needed "
            f"({decimal(found.unneeded_bytes)})"
        )
        for other in found.others:
            click.echo(f"  not considered (ran here too; give it to keep its files): {other}")
        for entry in found.unneeded:
            what = "deleted" if yes else "unneeded"
            where = entry.path.relative_to(found.state.path)
            click.echo(f"  {what}  {where}  {decimal(entry.size)}")
        total += found.unneeded_bytes
    if yes:
        click.echo(f"deleted {decimal(total)}")
    else:
        click.echo(f"dry run: nothing deleted; add --yes to delete {decimal(total)}")


@main.command()
@click.argument(
    "folder", default=".", required=False, type=click.Path(path_type=Path, dir_okay=True)
)
@click.option("--force", is_flag=True, help="Overwrite starter files that exist already.")
@errors_to_exit_codes
def init(folder: Path, force: bool) -> None:
    """Start a project in FOLDER (default: here): a storyboard that runs as it is on the
    embedded emulator, a prompt template, and .gitignore entries for .vidpipe/ and out/."""
    import shlex

    from .scaffold import init_project

    done = init_project(folder, force=force)
    for path in done.written:
        click.echo(f"wrote {path}")
    if done.ignore_added:
        click.echo(f"added {', '.join(done.ignore_added)} to {done.gitignore}")
    click.echo("next:")
    if folder.resolve() != Path.cwd().resolve():
        click.echo(f"  cd {shlex.quote(str(folder))}")
    name = done.storyboard.name
    click.echo(f"  vidpipe validate {name}    # check it against the provider's spec")
    click.echo(f"  vidpipe plan {name}        # the prompts and requests; sends nothing")
    click.echo(f"  vidpipe run {name}         # videos in out/, then open its report.html")


@main.group()
def specs() -> None:
    """Work with the provider specs: list, check against documents, diff, draft."""


def _load_spec(path: Path) -> Any:
    """A spec file, or bad input (exit 2) naming it."""
    from .errors import SpecError
    from .specs import load_spec

    if not path.is_file():
        raise InputError(Problem("no such spec file", str(path)))
    try:
        return load_spec(path)
    except SpecError as exc:
        raise InputError(Problem(str(exc), str(path))) from None


@specs.command("check-docs")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--all",
    "all_dir",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[DIR]",
    help="Check every spec against its document in DIR (default: ../shared/seeds beside "
    "the project, when it is there).",
)
@specs_option
@errors_to_exit_codes
def check_docs(files: tuple[Path, ...], all_dir: str | None, spec_dirs: tuple[Path, ...]) -> None:
    """Compare DOCUMENT with SPEC (or, with --all, every spec with its document).

    Reports every change from the spec to the document, one a line at the document's line
    ("added": the document has it, the spec has not): parameters and response fields added
    or removed, enum values and status words added or removed, type, required and range
    changes, status words the spec does not map, and a document whose sha256 is not the one
    the spec records. Exit codes: 0 they agree, 1 they differ, 2 bad input.
    """
    from .doccheck import DocCheck, check_all, check_document, default_documents_dir

    checks: list[DocCheck]
    if all_dir is not None:
        if files:
            raise InputError(Problem("give either --all [DIR] or DOCUMENT SPEC, not both"))
        folder = Path(all_dir) if all_dir else default_documents_dir()
        checks = check_all(_registry(spec_dirs), folder)
    elif len(files) == 2:
        checks = [check_document(files[0], _load_spec(files[1]))]
    else:
        raise InputError(Problem("give DOCUMENT SPEC, or --all [DIR]"))
    for check in checks:
        for line in check.lines():
            click.echo(line)
        verdict = "agrees with" if check.ok else "differs from"
        click.echo(f"{check.spec.path.name} {verdict} {check.document.path.name}")
    sys.exit(0 if all(c.ok for c in checks) else 1)


@specs.command("diff")
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False))
@errors_to_exit_codes
def diff_specs(old: Path, new: Path) -> None:
    """List every change from spec OLD to spec NEW, each breaking or not.

    Breaking: a request field or value removed, a type narrowed, a field newly required, a
    response field removed, a status word unmapped or remapped, an operation or a unified
    field removed or moved. Exit codes: 0 no change, 1 a breaking change, 2 bad input,
    3 only changes that break nothing.
    """
    from .specdiff import diff_specs as diff

    changes = diff(_load_spec(old), _load_spec(new))
    for change in changes:
        click.echo(str(change))
    breaking = sum(c.breaking for c in changes)
    click.echo(
        f"{len(changes)} changes, {breaking} breaking" if changes else "no changes that matter"
    )
    sys.exit(1 if breaking else 3 if changes else 0)


@specs.command("draft")
@click.argument("document", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--family", required=True, type=click.Choice(["videos", "generations"]))
@click.option("--name", required=True, help="The spec's name: a Python identifier.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the draft (default: NAME.yaml here).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@errors_to_exit_codes
def draft(document: Path, family: str, name: str, out: Path | None, force: bool) -> None:
    """Write a draft spec from a provider DOCUMENT.

    The draft has the document's fields, types, enums, required flags, response fields and
    status words, and the family's shared parts by reference. What only you can decide (which
    request field takes the prompt, what each status word means) is left as TODO: vidpipe
    refuses the spec until none is left. Then `vidpipe specs check-docs DOCUMENT SPEC`.
    """
    from .specdraft import draft_spec

    target = out or Path(f"{name}.yaml")
    if target.exists() and not force:
        raise InputError(Problem("already exists (use --force to overwrite it)", str(target)))
    text, todos = draft_spec(document, family=family, name=name)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}: {todos} TODOs to settle, then run")
    click.echo(f"  vidpipe specs check-docs {document} {target}")


@specs.command("list")
@specs_option
@errors_to_exit_codes
def list_specs(spec_dirs: tuple[Path, ...]) -> None:
    """List the specs, the API (group) each serves, its family and models."""
    for s in _registry(spec_dirs):
        models = s.models()
        shown = (
            ", ".join(models[:4]) + (" ..." if models and len(models) > 4 else "")
            if models
            else "any"
        )
        where = "" if s.builtin else f"  ({s.path})"
        click.echo(
            f"{s.name:<20} api={s.api:<8} {s.family:<12} {s.document}  models: {shown}{where}"
        )


def _register_emulator() -> None:
    try:
        from .emulator.cli import emulator_command
    except ImportError:  # pragma: no cover - the emulator ships with vidpipe
        return
    main.add_command(emulator_command, "emulator")


_register_emulator()
