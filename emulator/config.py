"""How an embedded emulator behaves: its clock, its faults, its keys and its URLs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import attrs

from ..specs import SpecRegistry, default_registry
from .faults import Faults

__all__ = ["EMBEDDED_BASE_URL", "EMBEDDED_CDN_URL", "EmulatorConfig"]

# The names the in-process emulator answers to. `.invalid` can never resolve, so a URL that
# leaks out of the process fails loudly instead of reaching a real host.
EMBEDDED_BASE_URL = "http://emulator.embedded"
EMBEDDED_CDN_URL = "http://cdn.emulator.invalid"


def _to_faults(value: Faults | str | None) -> Faults:
    if value is None:
        return Faults()
    if isinstance(value, str):
        return Faults.parse(value)
    return value


def _to_keys(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    keys = frozenset([value] if isinstance(value, str) else value)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("api_keys must be non-empty strings (or None to accept any token)")
    return keys


def _to_url(value: str | None) -> str | None:
    return value.rstrip("/") if value else None


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value}")


@attrs.frozen(kw_only=True)
class EmulatorConfig:
    """Settings of one emulator. Every field has a default that suits local development.

    - `seed` seeds task ids and the fault streams.
    - A task stays queued for `queued_fraction` of `job_seconds`, then runs with rising
      progress, and finishes `job_seconds` after it was created (0: at once).
    - `faults` is a `Faults` or its text form (``"429=0.1,created-502=0.05,url-403=1x2"``;
      `faults` lists the kinds).
    - `api_keys`: accepted bearer tokens; None accepts any non-empty token. Never shown.
    - `base_url` and `cdn_base_url` are the two origins put into answers (``--public-url``
      and ``--cdn-url``); a missing `cdn_base_url` is `base_url`. None derives them from
      the Host each request was sent to, so another machine gets URLs it can reach (on
      loopback the CDN uses the other loopback name: localhost for 127.0.0.1 and back).
    - Finished content expires `content_ttl_seconds` after completion; the CDN then
      answers `cdn_expired_status` (404 or 410).
    - `poll_after_ms` fixes the poll hint; None derives it from the time left.
    - `slow_seconds` is the delay of a `slow` fault; `retry_after_seconds` the back-off a
      429 asks for; `reset_after_create` drops a create's connection after the task exists
      (a lost answer) rather than before.
    - Sizes and durations a request leaves out and its spec has no default for fall back
      to `default_size` and `default_seconds`; a duration of 0 or -1 means `auto_seconds`.
      Longer than `max_seconds` is refused.
    - `clock` (unix seconds) and `sleep` can be replaced by tests.
    - `specs` is the registry to serve (default: the specs shipped with vidpipe).
    - `download_bytes_per_second`, when set, makes the content and CDN routes send videos
      no faster than that, in small chunks (crash tests use it to stop a run in the middle
      of a download).
    - `max_in_flight`, when set, answers a create 429 ("too many tasks in flight", with
      `retry_after_seconds`) while that many tasks are unfinished, as gateways that cap
      tasks per key do; the task is not made.
    - `shared_video` gives every task the one video of its size and length (rendered
      once): benchmarks of thousands of tasks measure the clients, not the renderer.
    - `store_dir`, when set, keeps the tasks on disk so a new emulator (a new process)
      still knows them: `vidpipe run` points it into the state dir, so a resumed run can
      re-attach to, download and remix tasks an earlier run created.
    """

    seed: int = 0
    job_seconds: float = attrs.field(default=8.0, validator=_non_negative)
    queued_fraction: float = attrs.field(default=0.2, validator=_non_negative)
    faults: Faults = attrs.field(factory=Faults, converter=_to_faults)
    api_keys: frozenset[str] | None = attrs.field(default=None, converter=_to_keys, repr=False)
    base_url: str | None = attrs.field(default=None, converter=_to_url)
    cdn_base_url: str | None = attrs.field(default=None, converter=_to_url)
    content_ttl_seconds: float = attrs.field(default=24 * 3600.0, validator=_non_negative)
    cdn_expired_status: int = attrs.field(default=410, validator=attrs.validators.in_((404, 410)))
    poll_after_ms: int | None = None
    slow_seconds: float = attrs.field(default=3.0, validator=_non_negative)
    retry_after_seconds: float = attrs.field(default=1.0, validator=_non_negative)
    reset_after_create: bool = True
    default_size: str = "1280x720"
    default_seconds: float = attrs.field(default=4.0, validator=_positive)
    auto_seconds: float = attrs.field(default=5.0, validator=_positive)
    max_seconds: float = attrs.field(default=60.0, validator=_positive)
    render_cache_size: int = 16
    clock: Callable[[], float] = attrs.field(default=time.time, eq=False, repr=False)
    sleep: Callable[[float], Awaitable[None]] = attrs.field(
        default=asyncio.sleep, eq=False, repr=False
    )
    specs: SpecRegistry | None = attrs.field(default=None, eq=False, repr=False)
    store_dir: Path | None = None
    max_in_flight: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1))
    )
    shared_video: bool = False
    download_bytes_per_second: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(_positive)
    )

    @queued_fraction.validator
    def _check_fraction(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not 0.0 <= value < 1.0:
            raise ValueError(f"queued_fraction must be in [0, 1), got {value}")

    def registry(self) -> SpecRegistry:
        """The specs this emulator serves."""
        return self.specs if self.specs is not None else default_registry()
