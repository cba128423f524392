"""Re-attaching after a lost create answer, where a spec offers a way to find the task.

No shipped spec declares one, so these tests write a spec that does: a copy of
`anyfast_sora` with the `GET /v1/videos` list operation (which the emulator serves) and
`x-vidpipe.reattach.match` (`bench.listing`). Its client is generated for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.listing import VIDEO_MATCH, generated_clients, with_list_route
from vidpipe.api import run
from vidpipe.loading import load
from vidpipe.openapi import SPEC_DIR
from vidpipe.runner import RunOptions
from vidpipe.specs import SpecRegistry

from .runs import InProcess, creates_by_fingerprint, in_process_env

NAME = "sora_listed"

BOARD = """\
version: 1
name: listed
seed: 11
providers:
  fast: {api: anyfast, base_url: "${ANYFAST_BASE_URL}", api_key: "${ANYFAST_API_KEY}"}
defaults: {provider: fast, model: sora-2, seconds: 4, size: 64x48}
shots:
  - {id: kite, prompt: a red kite over a beach}
  - {id: wave, prompt: a wave breaking on rocks}
  - {id: dusk, remix: kite, prompt: the same beach at dusk}
"""


def listed_sora(match: dict[str, str] | None = None) -> str:
    """anyfast_sora with a list route (and a tiny size, so the test renders small videos)."""
    text = (
        (SPEC_DIR / "anyfast_sora.yaml")
        .read_text()
        .replace(
            "enum: [720x1280, 1280x720, 1024x1792, 1792x1024]\n"
            "          x-enum-varnames: [W720_H1280,",
            "enum: [64x48, 720x1280, 1280x720, 1024x1792, 1792x1024]\n"
            "          x-enum-varnames: [W64_H48, W720_H1280,",
        )
    )
    return with_list_route(text, VIDEO_MATCH if match is None else match)


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A specs folder with the listed spec, whose client is generated and importable."""
    folder = tmp_path_factory.mktemp("listed")
    (folder / f"{NAME}.yaml").write_text(listed_sora())
    with generated_clients([folder / f"{NAME}.yaml"]):
        yield folder


@pytest.fixture
def specs(spec_dir: Path) -> SpecRegistry:
    return SpecRegistry.load(spec_dir)


def run_listed(tmp: Path, emu: InProcess, specs: SpecRegistry) -> Any:
    tmp.mkdir(parents=True, exist_ok=True)
    board = tmp / "listed.yaml"
    board.write_text(BOARD)
    options = RunOptions(
        out_dir=tmp / "out",
        state_dir=tmp / "state",
        transport_for=emu.transport_for,
        poll_deadline=30,
    )
    return run(load(board, env=in_process_env(), registry=specs), options, registry=specs)


@pytest.mark.parametrize("fault", ["created-502", "created-504-json"])
def test_a_lost_create_answer_is_re_attached_through_the_list_route(
    tmp_path: Path, specs: SpecRegistry, fault: str
) -> None:
    emu = InProcess.start(specs=specs, faults=f"{fault}=1")
    result = run_listed(tmp_path, emu, specs)
    assert result.ok, result.to_json()
    stats = emu.stats()
    # Every create was answered with an error after its task existed, and was found again.
    assert stats["creates"]["total"] == 3 and stats["faults"][fault] == 3
    assert sorted(creates_by_fingerprint(stats).values()) == [1, 1, 1]
    tasks = {s.shot_id: s.task_id for s in result.shots.values()}
    assert len(set(tasks.values())) == 3
    assert result["dusk"].source_task == tasks["kite"]
    clean = run_listed(tmp_path / "clean", InProcess.start(specs=specs), specs)
    assert {s: r.sha256 for s, r in result.shots.items()} == {
        s: r.sha256 for s, r in clean.shots.items()
    }


def test_a_task_found_later_is_re_attached_by_the_next_run(
    tmp_path: Path, specs: SpecRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidpipe.adapters.common import BaseAdapter

    async def list_down(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    emu = InProcess.start(specs=specs, faults="created-502=1", store_dir=tmp_path / "tasks")
    with monkeypatch.context() as patch:
        patch.setattr(BaseAdapter, "find_task", list_down)  # no list to look at this run
        first = run_listed(tmp_path, emu, specs)
    assert {s.status for s in first.shots.values()} == {"unknown", "skipped"}
    assert emu.stats()["creates"]["total"] == 2  # kite and wave; dusk waits for kite
    later = InProcess.start(specs=specs, store_dir=tmp_path / "tasks")
    again = run_listed(tmp_path, later, specs)
    assert again.ok, again.to_json()
    assert {s: again[s].task_id for s in ("kite", "wave")} == {
        s: t for s, t in _tasks(later).items() if s in ("kite", "wave")
    }
    assert later.stats()["creates"]["total"] == 1  # only dusk: kite and wave re-attached


def test_no_task_is_taken_when_the_list_cannot_show_every_field_sent(
    tmp_path: Path, spec_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list that does not show `size` cannot tell two requests apart: no re-attach."""
    from vidpipe.adapters import registry

    blind = tmp_path / "specs"
    blind.mkdir()
    match = {k: v for k, v in VIDEO_MATCH.items() if k != "size"}
    (blind / f"{NAME}.yaml").write_text(listed_sora(match))
    reg = SpecRegistry.load(blind)
    original = registry.INDEXES[NAME]()

    class Index:
        """The same generated client: the two specs differ only in x-vidpipe."""

        SPEC = NAME
        SPEC_SHA256 = reg[NAME].sha256

        def __getattr__(self, name: str) -> Any:
            return getattr(original, name)

    monkeypatch.setattr(registry, "INDEXES", {**registry.INDEXES, NAME: Index})
    emu = InProcess.start(specs=reg, faults="created-502=1")
    result = run_listed(tmp_path, emu, reg)
    assert {s: r.status for s, r in result.shots.items()} == {
        "kite": "unknown",
        "wave": "unknown",
        "dusk": "skipped",
    }
    assert emu.stats()["creates"]["total"] == 2


def _tasks(emu: InProcess) -> dict[str, str]:
    """The emulator's tasks by the shot whose prompt made them."""
    prompts = {"a red kite over a beach": "kite", "a wave breaking on rocks": "wave"}
    store = emu.emulator.app.emulator.store
    return {prompts[t.prompt]: t.id for t in store.all() if t.prompt in prompts}
