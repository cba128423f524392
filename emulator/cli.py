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
    help='Fault rates, e.g. "429=0.1,500=0.05,reset=0.02,truncate=0.02,fail=0.01,slow=0.05".',
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
    store_dir: Path | None,
) -> None:
    """Run the embedded provider emulator: every route of every spec, on HOST:PORT."""
    from .server import serve

    config = EmulatorConfig(
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
