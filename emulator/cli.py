"""The ``vidpipe emulator`` command: run the embedded provider emulator on a port."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import click

from .config import EmulatorConfig
from .faults import Faults

__all__ = ["emulator_command"]


def _url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    url = urllib.parse.urlsplit(value)
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        raise click.BadParameter(f"{value!r} is not an http(s) URL such as http://10.0.0.5:8123")
    return value.rstrip("/")


def _faults(ctx: click.Context, param: click.Parameter, value: str | None) -> Faults:
    try:
        return Faults.parse(value or "")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8123, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--public-url",
    default=None,
    callback=_url,
    metavar="URL",
    help="The URL other machines reach this server at (e.g. http://10.0.0.5:8123); answers "
    "and result URLs use it. Default: the host each request was sent to.",
)
@click.option(
    "--cdn-url",
    default=None,
    callback=_url,
    metavar="URL",
    help="The origin of result (CDN) URLs. Default: --public-url, else the request's host "
    "(on loopback the other loopback name, a second origin).",
)
@click.option(
    "--job-seconds",
    default=8.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="How long a task takes from create to completion.",
)
@click.option(
    "--faults",
    default="",
    callback=_faults,
    metavar="KIND=RATE[xCOUNT],...",
    help='Faults to inject (kinds above), e.g. "429=0.1,created-502=0.05,url-403=0.2x2".',
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seeds task ids and faults.")
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    envvar="VIDPIPE_EMULATOR_API_KEY",
    help="Accept only this bearer token (repeatable). Default: any non-empty token.",
)
@click.option(
    "--content-ttl",
    default=24 * 3600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds a finished video stays downloadable.",
)
@click.option(
    "--slow-seconds",
    default=3.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Delay of a 'slow' fault.",
)
@click.option(
    "--download-rate",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    metavar="BYTES_PER_SECOND",
    help="Send videos no faster than this (to test interrupted downloads).",
)
@click.option(
    "--specs",
    "spec_dirs",
    multiple=True,
    envvar="VIDPIPE_SPECS",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder of your own specs to serve as well (repeatable; also VIDPIPE_SPECS). "
    "A spec named as a shipped one replaces it.",
)
@click.option(
    "--store",
    "store_dir",
    default=None,
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep tasks in this folder, so a restarted emulator still knows them.",
)
def emulator_command(
    host: str,
    port: int,
    public_url: str | None,
    cdn_url: str | None,
    job_seconds: float,
    faults: Faults,
    seed: int,
    api_keys: tuple[str, ...],
    content_ttl: float,
    slow_seconds: float,
    download_rate: float | None,
    spec_dirs: tuple[Path, ...],
    store_dir: Path | None,
) -> None:
    """Run the embedded provider emulator: every route of every spec, on HOST:PORT.

    Faults (--faults) are drawn per request from streams seeded by --seed, so the same
    requests meet the same faults on every run. RATE is a probability from 0 to 1.

    \b
    429            rate limited, with Retry-After and retry-after-ms
    500            a JSON server error in the API's error shape
    502, 503       a proxy's HTML error page; 5xx spreads its rate over 500/502/503
    reset          the connection drops without an answer (on a create: after
                   its task exists)
    truncate       a download stops before its Content-Length (downloads only)
    slow           the answer waits --slow-seconds
    fail, expire   the task fails, or completes with its content already expired
    created-502, created-504
                   a create (or remix) makes its task, then answers 502/504 as a
                   proxy does (HTML); created-502-json and created-504-json answer
                   JSON; created-5xx spreads over the four. A resend makes a second
                   task (/_emulator/stats counts creates per request fingerprint).
    url-403=RxN, url-404=RxN
                   a share R of the tasks: their result URLs (the CDN link and the
                   content route) answer 403/404 N times (default 1), then serve
    burst-429=RxN, burst-500, burst-502, burst-503, burst-504, burst-5xx
                   a status read starts, with probability R, a run of N (default
                   3) such answers in a row for that task
    """
    from ..errors import SpecError
    from ..specs import default_registry
    from .server import serve

    try:
        specs = default_registry().with_dirs(spec_dirs)
    except SpecError as exc:
        raise click.UsageError(f"--specs: {exc}") from None
    config = EmulatorConfig(
        specs=specs,
        seed=seed,
        job_seconds=job_seconds,
        faults=faults,
        api_keys=frozenset(api_keys) or None,
        content_ttl_seconds=content_ttl,
        store_dir=store_dir,
        slow_seconds=slow_seconds,
        download_bytes_per_second=download_rate,
        base_url=public_url,
        cdn_base_url=cdn_url,
    )
    try:
        serve(host, port, config, announce=click.echo)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
