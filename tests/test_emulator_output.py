"""What the emulator renders: the requested size and length, and the same bytes for the
same request."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from vidpipe.emulator.render import probe

from .emulator_fixtures import apifree, client, emulator, form, happyhorse, newapi, seedance


async def _download(
    emu: Any, route: str, body: dict[str, Any], *, multipart: bool = False
) -> bytes:
    async with client(emu) as c:
        create = await (c.post(route, files=form(body)) if multipart else c.post(route, json=body))
        assert create.status_code == 200, create.text
        task_id = create.json()["id"]
        polled = (await c.get(f"{route}/{task_id}")).json()
        if route.endswith("generations"):
            url = polled["data"]["result_url"]
            r = await c.get(url)
        else:
            assert polled["status"] == "completed", polled
            r = await c.get(f"{route}/{task_id}/content")
        assert r.status_code == 200, r.text
        return r.content


@pytest.mark.parametrize(
    ("route", "body", "multipart", "size", "seconds"),
    [
        ("/v1/videos", apifree(size="96x64", seconds="2"), False, (96, 64), 2.0),
        ("/v1/videos", apifree(size="64x96", seconds=1), False, (64, 96), 1.0),
        ("/v1/videos", newapi(width=80, height=48, duration=2), True, (80, 48), 2.0),
        (
            "/v1/video/generations",
            seedance(resolution="480p", ratio="16:9"),
            False,
            (854, 480),
            1.0,
        ),
        ("/v1/video/generations", seedance(ratio="9:16", duration=2), False, (480, 854), 2.0),
        ("/v1/video/generations", happyhorse(ratio="4:3"), False, (960, 720), 3.0),
    ],
)
async def test_the_file_has_the_requested_size_and_length(
    route: str, body: dict[str, Any], multipart: bool, size: tuple[int, int], seconds: float
) -> None:
    data = await _download(emulator(), route, body, multipart=multipart)
    info = probe(data)
    assert (info.width, info.height) == size
    assert info.duration == pytest.approx(seconds, abs=0.05)
    assert info.codec == "h264"


async def test_spec_defaults_fill_what_the_request_leaves_out() -> None:
    # Sora's documented defaults: 720x1280 and 4 seconds.
    sora = await _download(
        emulator(), "/v1/videos", {"model": "sora-2", "prompt": "x"}, multipart=True
    )
    info = probe(sora)
    assert (info.width, info.height, round(info.duration)) == (720, 1280, 4)


async def test_auto_duration_and_newapi_frame_rate() -> None:
    auto = await _download(
        emulator(), "/v1/video/generations", seedance(duration=-1, resolution="480p", ratio="1:1")
    )
    assert probe(auto).duration == pytest.approx(5.0, abs=0.05)
    fast = await _download(emulator(), "/v1/videos", newapi(fps=12, duration=1), multipart=True)
    assert probe(fast).frames == 12


async def test_sizes_the_renderer_cannot_make_are_refused() -> None:
    emu = emulator()
    async with client(emu) as c:
        odd = await c.post("/v1/videos", json=apifree(size="65x48"))
        huge = await c.post("/v1/videos", json=apifree(size="99999x48"))
        long = await c.post("/v1/videos", json=apifree(seconds="600"))
    for r in (odd, huge, long):
        assert r.status_code == 400, r.text
    assert emu.stats()["creates"]["total"] == 0


async def test_the_same_request_gives_the_same_bytes_even_across_emulators() -> None:
    body = newapi(seed=11)
    first = await _download(emulator(), "/v1/videos", body, multipart=True)
    again = await _download(emulator(seed=99), "/v1/videos", body, multipart=True)
    assert hashlib.sha256(first).digest() == hashlib.sha256(again).digest()
    horse = await _download(emulator(), "/v1/video/generations", happyhorse(duration=3))
    horse_again = await _download(emulator(), "/v1/video/generations", happyhorse(duration=3))
    assert horse == horse_again


@pytest.mark.parametrize(
    "change", [{"seed": 12}, {"prompt": "a blue kite"}, {"model": "veo3-fast"}, {"fps": 25}]
)
async def test_a_different_seed_prompt_or_model_gives_different_bytes(
    change: dict[str, Any],
) -> None:
    base = await _download(emulator(), "/v1/videos", newapi(seed=11), multipart=True)
    other = await _download(emulator(), "/v1/videos", {**newapi(seed=11), **change}, multipart=True)
    assert hashlib.sha256(base).hexdigest() != hashlib.sha256(other).hexdigest()


async def test_a_render_is_made_once_per_request() -> None:
    emu = emulator()
    async with client(emu) as c:
        ids = [(await c.post("/v1/videos", json=apifree())).json()["id"] for _ in range(3)]
        for task_id in ids:
            await c.get(f"/v1/videos/{task_id}")
            await c.get(f"/v1/videos/{task_id}/content")
    assert emu.stats()["renders"]["total"] == 1


async def test_the_cdn_and_the_content_route_serve_the_same_file() -> None:
    emu = emulator()
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        done = (await c.get(f"/v1/videos/{vid}")).json()
        content = (await c.get(f"/v1/videos/{vid}/content")).content
    async with httpx.AsyncClient(transport=emu.transport()) as bare:
        cdn = (await bare.get(done["metadata"]["url"])).content
    assert cdn == content
