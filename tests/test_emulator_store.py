"""An emulator with a store dir keeps its tasks across restarts (new processes)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig
from vidpipe.emulator.cli import emulator_command

AUTH = {"Authorization": "Bearer k"}


async def _create(emu: EmbeddedEmulator) -> str:
    async with emu.client(headers=AUTH) as client:
        answer = await client.post(
            "/newapi/v1/videos",
            files={"model": (None, "veo3"), "prompt": (None, "a kite"), "size": (None, "320x180")},
        )
        answer.raise_for_status()
        return str(answer.json()["id"])


async def _content(emu: EmbeddedEmulator, task_id: str) -> httpx.Response:
    async with emu.client(headers=AUTH) as client:
        status = await client.get(f"/newapi/v1/videos/{task_id}")
        assert status.json()["status"] == "completed"
        return await client.get(f"/newapi/v1/videos/{task_id}/content")


async def test_a_new_emulator_on_the_same_store_knows_earlier_tasks(tmp_path: Path) -> None:
    config = EmulatorConfig(job_seconds=0, store_dir=tmp_path / "store")
    first = EmbeddedEmulator(config)
    task_id = await _create(first)
    before = await _content(first, task_id)

    again = EmbeddedEmulator(config)  # as a new process would
    after = await _content(again, task_id)
    assert after.status_code == 200
    assert after.content == before.content  # rendered again, byte for byte
    assert (await _create(again)) != task_id  # new ids never reuse a stored one


async def test_without_a_store_a_new_emulator_starts_empty(tmp_path: Path) -> None:
    task_id = await _create(EmbeddedEmulator(EmulatorConfig(job_seconds=0)))
    async with EmbeddedEmulator(EmulatorConfig(job_seconds=0)).client(headers=AUTH) as client:
        assert (await client.get(f"/newapi/v1/videos/{task_id}")).status_code == 404


async def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    config = EmulatorConfig(job_seconds=0, store_dir=tmp_path)
    task_id = await _create(EmbeddedEmulator(config))
    with (tmp_path / "tasks.jsonl").open("a") as f:
        f.write('{"id": "video_torn", "spec": "new')  # a crash in the middle of a write
    after = await _content(EmbeddedEmulator(config), task_id)
    assert after.status_code == 200


def test_the_command_takes_a_store() -> None:
    result = CliRunner().invoke(emulator_command, ["--help"])
    assert "--store" in result.output


async def test_a_store_written_before_status_words_came_from_the_spec_still_loads(
    tmp_path: Path,
) -> None:
    """Earlier versions also wrote each task's upstream style ("openai", "seedance", ...)."""
    config = EmulatorConfig(job_seconds=0, store_dir=tmp_path)
    task_id = await _create(EmbeddedEmulator(config))
    lines = (tmp_path / "tasks.jsonl").read_text().splitlines()
    old = [json.dumps({**json.loads(line), "upstream": "openai"}) for line in lines]
    (tmp_path / "tasks.jsonl").write_text("\n".join(old) + "\n")
    after = await _content(EmbeddedEmulator(config), task_id)
    assert after.status_code == 200 and after.content[4:8] == b"ftyp"
