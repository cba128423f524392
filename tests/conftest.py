"""Fixtures shared by the whole suite: isolated environment, paths to inputs."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidpipe import retry

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the vidpipe processes that tests start and then interrupt, even when
    the suite runs in the background: a shell starts a background job with SIGINT ignored,
    and an ignored signal stays ignored in every child, where a handled one is reset."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def client_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the clients of user specs are generated: one folder for the whole session (a
    client is keyed by its spec's sha256, so tests share what is the same)."""
    return tmp_path_factory.mktemp("clients")


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, client_cache: Path
) -> Iterator[None]:
    """No test sees a real key or a real gateway URL from the developer's environment, or
    writes to the user's cache of generated clients."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_BASE_URL")) or name.startswith("VIDPIPE_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIDPIPE_CLIENT_CACHE", str(client_cache))
    monkeypatch.setenv("NO_COLOR", "1")
    # Retries record the waits they would make instead of sleeping (tests never really wait).
    with retry.set_testing(True):
        yield


@pytest.fixture
def shared_dir() -> Path:
    """The provider documents and references beside the project; skips where absent."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"provider documents not found at {SHARED / 'seeds'} (../shared is absent)")
    return SHARED
