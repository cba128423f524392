"""The embedded emulator's HTTP behaviour, in-process: auth, validation, dispatch, lifecycle,
content, CDN, remix and stats."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig, create_app, streaming
from vidpipe.emulator.faults import Faults
from vidpipe.emulator.fingerprints import request_fingerprint
from vidpipe.emulator.render import probe
from vidpipe.emulator.server import InProcessTransport
from vidpipe.openapi import SPEC_DIR
from vidpipe.specs import SpecRegistry, default_registry

from .emulator_fixtures import (
    AUTH,
    Clock,
    apifree,
    client,
    data_url,
    emulator,
    form,
    happyhorse,
    newapi,
    png,
    seedance,
)
from .specvalues import smallest_size


async def _finish(c: httpx.AsyncClient, create: httpx.Response) -> dict[str, object]:
    assert create.status_code == 200, create.text
    task_id = create.json()["id"]
    family_b = task_id.startswith(("cgt-", "asyntask_"))
    path = "/v1/video/generations/" if family_b else "/v1/videos/"
    polled = await c.get(f"{path}{task_id}")
    assert polled.status_code == 200, polled.text
    body: dict[str, object] = polled.json()
    return body


# -- auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/videos", apifree()),
        ("GET", "/v1/videos/video_x", None),
        ("POST", "/v1/video/generations", seedance()),
        ("GET", "/v1/video/generations/cgt-x", None),
    ],
)
async def test_a_missing_bearer_token_is_401_in_the_family_shape(
    method: str, path: str, body: dict[str, object] | None
) -> None:
    emu = emulator()
    async with client(emu, auth=False) as c:
        r = await c.request(method, path, json=body)
    assert r.status_code == 401
    if "generations" in path:
        assert r.json()["code"] and r.json()["data"] is None
    else:
        assert r.json()["error"]["code"] == "invalid_api_key"
    assert emu.stats()["creates"]["total"] == 0


async def test_configured_keys_refuse_other_tokens_without_echoing_them() -> None:
    emu = emulator(api_keys={"right"})
    async with client(emu, auth=False) as c:
        wrong = await c.post(
            "/v1/videos", json=apifree(), headers={"Authorization": "Bearer sk-wrong-secret"}
        )
        right = await c.post(
            "/v1/videos", json=apifree(), headers={"Authorization": "Bearer right"}
        )
        not_bearer = await c.post("/v1/videos", json=apifree(), headers={"Authorization": "right"})
    assert wrong.status_code == 401 and "sk-wrong-secret" not in wrong.text
    assert right.status_code == 200
    assert not_bearer.status_code == 401
    assert "right" not in repr(emu.config)


async def test_emulator_routes_and_the_cdn_need_no_auth() -> None:
    emu = emulator()
    async with client(emu) as c:
        done = await _finish(c, await c.post("/v1/videos", json=apifree()))
    async with client(emu, auth=False) as bare:
        assert (await bare.get("/_emulator/stats")).status_code == 200
        assert (await bare.get("/_emulator/health")).json()["status"] == "ok"
        cdn = await bare.get(str(done["video_url"]))
    assert cdn.status_code == 200 and cdn.headers["content-type"] == "video/mp4"
    assert str(done["video_url"]).startswith(emu.cdn_base_url + "/cdn/")


# -- validation -----------------------------------------------------------------------------


async def test_an_invalid_videos_request_is_400_with_an_openai_error() -> None:
    emu = emulator()
    async with client(emu) as c:
        r = await c.post("/v1/videos", json={"model": "kling-video", "prompt": "x", "size": "big"})
        missing = await c.post("/v1/videos", json={"model": "kling-video"})
    error = r.json()["error"]
    assert r.status_code == 400
    assert error["type"] == "invalid_request_error" and error["param"] == "size"
    assert set(error) == {"message", "type", "param", "code"}
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "prompt"
    assert emu.stats()["creates"]["total"] == 0 and emu.stats()["rejected"]["400"] == 2


async def test_an_invalid_generations_request_is_400_with_a_new_api_error() -> None:
    emu = emulator()
    async with client(emu) as c:
        r = await c.post("/v1/video/generations", json=seedance(duration=99))
        no_image = await c.post(
            "/v1/video/generations", json={"model": "happyhorse-1.0-i2v", "prompt": "x"}
        )
    assert r.status_code == 400
    assert r.json() == {"code": "invalid_request", "message": r.json()["message"], "data": None}
    assert "duration" in r.json()["message"]
    assert no_image.status_code == 400 and "'image'" in no_image.json()["message"]


async def test_multipart_values_are_coerced_to_the_schema_types() -> None:
    emu = emulator()
    async with client(emu) as c:
        ok = await c.post("/v1/videos", files=form(newapi(seed=5, metadata='{"a": 1}')))
        bad_int = await c.post("/v1/videos", files=form(newapi(width="wide")))
        bad_json = await c.post("/v1/videos", files=form(newapi(metadata="[1, 2]")))
    assert ok.status_code == 200, ok.text
    assert ok.json()["size"] == smallest_size("newapi")
    assert bad_int.status_code == 400 and bad_int.json()["error"]["param"] == "width"
    assert bad_json.status_code == 400 and bad_json.json()["error"]["param"] == "metadata"


async def test_file_fields_must_be_file_parts_of_an_allowed_type() -> None:
    emu = emulator()
    sora = {"model": "sora-2", "prompt": "x", "seconds": "4", "size": "720x1280"}
    async with client(emu) as c:
        as_text = await c.post("/v1/videos", files=form({**sora, "input_reference": "abc"}))
        as_pdf = await c.post(
            "/v1/videos",
            files=form({**sora, "input_reference": ("ref.pdf", b"%PDF-1.4", "application/pdf")}),
        )
        as_png = await c.post(
            "/v1/videos", files=form({**sora, "input_reference": ("ref.png", png(), "image/png")})
        )
        file_in_text_field = await c.post(
            "/v1/videos", files=form({**sora, "prompt": ("p.txt", b"hello", "text/plain")})
        )
    assert as_text.status_code == 400 and as_text.json()["error"]["param"] == "input_reference"
    assert as_pdf.status_code == 400 and "image/png" in as_pdf.json()["error"]["message"]
    assert as_png.status_code == 200, as_png.text
    assert file_in_text_field.status_code == 400


async def test_a_body_of_the_wrong_content_type_is_refused() -> None:
    emu = emulator()
    async with client(emu) as c:
        sora_json = await c.post("/anyfast/v1/videos", json={"model": "sora-2", "prompt": "x"})
        text = await c.post(
            "/v1/videos", content=b"model=x", headers={"content-type": "text/plain"}
        )
        broken = await c.post(
            "/v1/videos", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert sora_json.status_code == 400 and "multipart/form-data" in sora_json.text
    assert text.status_code == 400 and broken.status_code == 400


# -- dispatch -------------------------------------------------------------------------------


async def test_shared_routes_dispatch_on_the_model() -> None:
    emu = emulator()
    async with client(emu) as c:
        sora = await c.post("/v1/videos", files=form({"model": "sora-2", "prompt": "x"}))
        pro = await c.post("/v1/videos", files=form(newapi(model="sora-2-pro")))
        anything = await c.post("/v1/videos", json=apifree(model="some-new-model"))
        alias = await c.post("/v1/openai/videos", json=apifree())
        seed = await c.post("/v1/video/generations", json=seedance())
        horse = await c.post("/v1/video/generations", json=happyhorse())
        unknown = await c.post("/v1/video/generations", json=seedance(model="nope"))
        prefixed = await c.post("/anyfast/v1/videos", json=apifree())
    for r in (sora, pro, anything, alias, seed, horse):
        assert r.status_code == 200, r.text
    assert emu.stats()["creates"]["by_spec"] == {
        "anyfast_sora": 1,
        "newapi": 1,
        "apifree": 2,
        "anyfast_seedance": 1,
        "anyfast_happyhorse": 1,
    }
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid_request"
    # Under /anyfast only AnyFast's specs answer, and none of them takes any model.
    assert prefixed.status_code == 400
    assert seed.json()["status"] == "" and seed.json()["id"].startswith("cgt-")
    assert horse.json()["status"] == "queued" and horse.json()["id"].startswith("asyntask_")
    assert sora.json()["id"].startswith("video_")


async def test_a_task_answers_only_on_its_own_family_routes() -> None:
    emu = emulator()
    async with client(emu) as c:
        video = (await c.post("/v1/videos", json=apifree())).json()["id"]
        task = (await c.post("/v1/video/generations", json=seedance())).json()["id"]
        cross_a = await c.get(f"/v1/video/generations/{video}")
        cross_b = await c.get(f"/v1/videos/{task}")
        elsewhere = await c.get(f"/newapi/v1/videos/{video}")
        unknown_route = await c.get("/v1/nothing")
    assert cross_a.status_code == 400 and cross_a.json()["code"] == "task_not_exist"
    assert cross_b.status_code == 404 and cross_b.json()["error"]["code"] == "video_not_found"
    assert elsewhere.status_code == 404
    assert unknown_route.status_code == 404


async def test_a_spec_edit_changes_the_emulator_without_code(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPEC_DIR, specs, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    sora = specs / "anyfast_sora.yaml"
    text = sora.read_text()
    text = text.replace("enum: [sora-2]", "enum: [sora-2, sora-3]")
    text = text.replace('enum: ["4", "8", "12"]', 'enum: ["2", "4", "8", "12"]')
    text = text.replace("/v1/videos/{video_id}/remix:", "/v1/videos/{video_id}/variations:")
    sora.write_text(text)
    edited = emulator(specs=SpecRegistry.load(specs))
    stock = emulator()
    body = form({"model": "sora-3", "prompt": "x", "seconds": "2", "size": "720x1280"})
    async with client(edited) as c, client(stock) as s:
        new = await c.post("/anyfast/v1/videos", files=body)
        old = await s.post("/anyfast/v1/videos", files=body)
        vid = new.json()["id"]
        await c.get(f"/v1/videos/{vid}")
        moved = await c.post(f"/v1/videos/{vid}/variations", json={"prompt": "y"})
        gone = await c.post(f"/anyfast/v1/videos/{vid}/remix", json={"prompt": "y"})
    assert new.status_code == 200 and new.json()["seconds"] == "2"
    assert old.status_code == 400
    assert moved.status_code == 200 and moved.json()["remixed_from_video_id"] == vid
    assert gone.status_code == 404


# -- lifecycle ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "body", "words"),
    [
        ("/v1/videos", apifree(), ["queued", "in_progress", "completed"]),
        ("/v1/video/generations", seedance(), ["QUEUED", "IN_PROGRESS", "SUCCESS"]),
    ],
)
async def test_tasks_move_through_their_states_on_the_clock(
    route: str, body: dict[str, object], words: list[str]
) -> None:
    clock = Clock()
    emu = emulator(job_seconds=10, queued_fraction=0.2, clock=clock)
    async with client(emu) as c:
        task_id = (await c.post(route, json=body)).json()["id"]
        seen: list[tuple[str, int, str | None]] = []
        for _ in range(6):
            r = await c.get(f"{route}/{task_id}")
            answer = r.json()
            if "data" in answer:
                answer = answer["data"]
                seen.append((answer["status"], int(answer["progress"][:-1]), None))
            else:
                seen.append((answer["status"], answer["progress"], None))
            seen[-1] = (*seen[-1][:2], r.headers.get("openai-poll-after-ms"))
            clock.advance(2.5)
    statuses = [s for s, _, _ in seen]
    progress = [p for _, p, _ in seen]
    assert statuses[0] in (words[0], "SUBMITTED") and statuses[1] == words[1]
    assert statuses[-1] == words[2] and progress[-1] == 100
    running = [p for s, p, _ in seen if s == words[1]]
    assert running == sorted(running) and len(set(running)) > 1 and 0 < running[0] < 100
    assert all(hint is not None and int(hint) > 0 for s, _, hint in seen if s != words[2])
    assert seen[-1][2] is None


async def test_envelope_and_raw_upstream_shapes() -> None:
    emu = emulator()
    async with client(emu) as c:
        seed_id = (await c.post("/v1/video/generations", json=seedance())).json()["id"]
        horse_id = (await c.post("/v1/video/generations", json=happyhorse())).json()["id"]
        seed = (await c.get(f"/v1/video/generations/{seed_id}")).json()
        horse = (await c.get(f"/v1/video/generations/{horse_id}")).json()
    assert seed["code"] == "success"
    data = seed["data"]
    assert data["status"] == "SUCCESS" and data["progress"] == "100%"
    assert data["action"] == "textGenerate" and horse["data"]["action"] == "generate"
    assert data["result_url"] == data["data"]["content"]["video_url"]
    assert data["data"]["status"] == "succeeded"
    raw = horse["data"]["data"]["output"]
    assert raw["task_status"] == "SUCCEEDED" and raw["video_url"] == horse["data"]["result_url"]
    assert data["submit_time"] <= data["start_time"] <= data["finish_time"]


async def test_a_magic_marker_fails_the_task() -> None:
    emu = emulator()
    async with client(emu) as c:
        video = await _finish(c, await c.post("/v1/videos", json=apifree("x [emulator:fail]")))
        task = await _finish(
            c, await c.post("/v1/video/generations", json=seedance("x [emulator:fail]"))
        )
        content = await c.get(f"/v1/videos/{video['id']}/content")
    assert video["status"] == "failed" and video["error"]["message"]  # type: ignore[index]
    envelope = task["data"]
    assert envelope["status"] == "FAILURE" and envelope["fail_reason"]  # type: ignore[index]
    assert envelope["data"]["status"] == "failed"  # type: ignore[index]
    assert content.status_code == 400 and content.json()["error"]["code"] == "video_failed"
    assert emu.stats()["tasks"]["failed"] == 2


# -- content, range, CDN --------------------------------------------------------------------


async def test_content_of_an_unfinished_task_is_400_and_unknown_is_404() -> None:
    clock = Clock()
    emu = emulator(job_seconds=30, clock=clock)
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        early = await c.get(f"/v1/videos/{vid}/content")
        unknown = await c.get("/v1/videos/video_nope/content")
        clock.advance(30)
        late = await c.get(f"/v1/videos/{vid}/content")
    assert early.status_code == 400 and early.json()["error"]["code"] == "video_not_ready"
    assert unknown.status_code == 404
    assert late.status_code == 200 and late.content[4:8] == b"ftyp"


async def test_range_requests_get_206_with_content_range() -> None:
    emu = emulator()
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        whole = await c.get(f"/v1/videos/{vid}/content")
        head = await c.get(f"/v1/videos/{vid}/content", headers={"Range": "bytes=0-99"})
        tail = await c.get(f"/v1/videos/{vid}/content", headers={"Range": "bytes=100-"})
        suffix = await c.get(f"/v1/videos/{vid}/content", headers={"Range": "bytes=-10"})
        beyond = await c.get(f"/v1/videos/{vid}/content", headers={"Range": "bytes=99999999-"})
        malformed = await c.get(f"/v1/videos/{vid}/content", headers={"Range": "lines=1-2"})
    size = len(whole.content)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert head.status_code == 206 and head.headers["content-range"] == f"bytes 0-99/{size}"
    assert head.content + tail.content == whole.content
    assert suffix.content == whole.content[-10:]
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    assert malformed.status_code == 200 and len(malformed.content) == size
    assert whole.headers["etag"] == f'"{hashlib.sha256(whole.content).hexdigest()}"'


async def test_the_cdn_serves_ranges_and_expires() -> None:
    clock = Clock()
    emu = emulator(content_ttl_seconds=3600, clock=clock)
    async with client(emu) as c:
        done = await _finish(c, await c.post("/v1/videos", json=apifree()))
    url = str(done["video_url"])
    assert url.startswith("http://cdn.emulator.invalid/cdn/") and url.endswith(".mp4")
    async with httpx.AsyncClient(transport=emu.transport()) as cdn:
        part = await cdn.get(url, headers={"Range": "bytes=10-19"})
        clock.advance(3601)
        expired = await cdn.get(url)
        content = await cdn.get(f"{emu.base_url}/v1/videos/{done['id']}/content", headers=AUTH)
        missing = await cdn.get(f"{emu.cdn_base_url}/cdn/{'0' * 40}.mp4")
    assert part.status_code == 206 and len(part.content) == 10
    assert expired.status_code == 410
    assert content.status_code == 404 and content.json()["error"]["code"] == "video_expired"
    assert missing.status_code == 404


async def test_expired_cdn_links_can_answer_404() -> None:
    emu = emulator(cdn_expired_status=404)
    async with client(emu) as c:
        done = await _finish(c, await c.post("/v1/videos", json=apifree("[emulator:expire]")))
        r = await c.get(str(done["video_url"]))
    assert done["expires_at"] == done["completed_at"]
    assert r.status_code == 404


async def test_thumbnail_and_spritesheet_variants_are_images() -> None:
    emu = emulator()
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        thumb = await c.get(f"/v1/videos/{vid}/content", params={"variant": "thumbnail"})
        sprite = await c.get(f"/v1/videos/{vid}/content", params={"variant": "spritesheet"})
        bad = await c.get(f"/v1/videos/{vid}/content", params={"variant": "poster"})
    assert thumb.status_code == 200 and thumb.headers["content-type"].startswith("image/")
    assert sprite.status_code == 200 and sprite.headers["content-type"].startswith("image/")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "variant"


async def _sent(
    method: str,
    data: bytes,
    range_header: str | None,
    rate: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[dict[str, Any]]:
    """The ASGI messages `streaming.send_bytes` sends for `data`."""
    headers = [] if range_header is None else [(b"range", range_header.encode())]
    request = Request({"type": "http", "method": method, "headers": headers})
    answer = streaming.send_bytes(
        request, data, "video/mp4", fault=None, rate=rate, sleep=sleep, sent=lambda _n: None
    )
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("nothing is read")

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(dict(message))

    await answer({"type": "http", "method": method}, receive, send)
    return messages


@pytest.mark.parametrize(
    ("range_header", "first", "end", "status"),
    [
        (None, 0, None, 200),
        ("bytes=5-", 5, None, 206),
        (f"bytes=0-{streaming.PIECE_BYTES}", 0, streaming.PIECE_BYTES + 1, 206),
    ],
)
async def test_a_large_body_goes_out_in_views_of_the_stored_bytes(
    range_header: str | None, first: int, end: int | None, status: int
) -> None:
    data = bytes(range(256)) * (streaming.PIECE_BYTES // 256) * 3 + b"tail"
    start, *pieces = await _sent("GET", data, range_header)
    expected = data[first:end]
    assert start["status"] == status
    assert dict(start["headers"])[b"content-length"] == str(len(expected)).encode()
    assert len(pieces) == -(-len(expected) // streaming.PIECE_BYTES) > 1
    assert all(isinstance(p["body"], memoryview) for p in pieces)  # nothing copied
    assert all(len(p["body"]) <= streaming.PIECE_BYTES for p in pieces)
    assert [p["more_body"] for p in pieces] == [True] * (len(pieces) - 1) + [False]
    assert b"".join(p["body"] for p in pieces) == expected


async def test_a_large_body_is_not_sent_for_head_and_a_small_one_goes_whole() -> None:
    large = bytes(streaming.PIECE_BYTES + 1)
    start, *pieces = await _sent("HEAD", large, None)
    assert dict(start["headers"])[b"content-length"] == str(len(large)).encode()
    assert [(bytes(p["body"]), p["more_body"]) for p in pieces] == [(b"", False)]
    _, *whole = await _sent("GET", b"small", "bytes=1-")
    assert [bytes(p["body"]) for p in whole] == [b"mall"]


async def test_a_throttled_body_pauses_between_pieces_for_the_rate() -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    data = bytes(range(250))
    _, *pieces = await _sent("GET", data, "bytes=0-", rate=2000, sleep=sleep)  # 100 B pieces
    assert [len(p["body"]) for p in pieces] == [100, 100, 50]
    assert [p["more_body"] for p in pieces] == [True, True, False]
    assert b"".join(p["body"] for p in pieces) == data
    assert pauses == [0.05, 0.05]  # after each piece but the last, its length / rate


# -- remix ----------------------------------------------------------------------------------


async def test_remix_makes_a_new_task_from_the_source_video() -> None:
    emu = emulator()
    async with client(emu) as c:
        src = await _finish(c, await c.post("/v1/videos", json=apifree()))
        remix = await c.post(f"/v1/videos/{src['id']}/remix", json={"prompt": "at night"})
        assert remix.status_code == 200, remix.text
        done = await _finish(c, remix)
        original = await c.get(f"/v1/videos/{src['id']}/content")
        remixed = await c.get(f"/v1/videos/{done['id']}/content")
        no_prompt = await c.post(f"/v1/videos/{src['id']}/remix", json={})
        unknown = await c.post("/v1/videos/video_nope/remix", json={"prompt": "x"})
    assert done["remixed_from_video_id"] == src["id"]
    assert done["size"] == src["size"] and done["prompt"] == "at night"
    assert remixed.content != original.content
    info = probe(remixed.content)
    assert (info.width, info.height) == (64, 48)
    assert no_prompt.status_code == 400 and unknown.status_code == 404
    assert emu.stats()["creates"]["remix"] == 1


async def test_remix_of_an_unfinished_video_is_refused() -> None:
    clock = Clock()
    emu = emulator(job_seconds=60, clock=clock)
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        r = await c.post(f"/v1/videos/{vid}/remix", json={"prompt": "x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "video_not_ready"
    assert emu.stats()["creates"]["total"] == 1


async def test_remix_through_a_create_field_keeps_the_source_size() -> None:
    emu = emulator()
    sora = {"model": "sora-2", "prompt": "day", "seconds": "4", "size": "720x1280"}
    async with client(emu) as c:
        src = await _finish(c, await c.post("/v1/videos", files=form(sora)))
        remix = await c.post(
            "/v1/videos",
            files=form({"model": "sora-2", "prompt": "night", "remix_video_id": src["id"]}),
        )
        bad = await c.post(
            "/v1/videos",
            files=form({"model": "sora-2", "prompt": "n", "remix_video_id": "video_x"}),
        )
    assert remix.status_code == 200, remix.text
    assert remix.json()["remixed_from_video_id"] == src["id"]
    assert remix.json()["size"] == "720x1280"
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "remix_video_id"


async def test_without_configured_urls_answers_name_the_request_host() -> None:
    app = create_app(EmulatorConfig(job_seconds=0))
    async with httpx.AsyncClient(
        transport=InProcessTransport(app), base_url="http://10.0.0.5:8123", headers=AUTH
    ) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        named = (await c.get(f"/v1/videos/{vid}")).json()["video_url"]
        local = (await c.get(f"http://127.0.0.1:8123/v1/videos/{vid}")).json()["video_url"]
        odd = await c.get(f"/v1/videos/{vid}", headers={"Host": "a b/c"})
    assert named.startswith("http://10.0.0.5:8123/cdn/")
    assert local.startswith("http://localhost:8123/cdn/")
    assert odd.json()["video_url"].startswith("http://10.0.0.5:8123/cdn/")


# -- list and delete (/v1/videos) ----------------------------------------------------------


async def test_videos_are_listed_newest_first_in_pages() -> None:
    clock = Clock()
    emu = emulator(clock=clock)
    async with client(emu) as c:
        ids = []
        for i in range(5):
            ids.append((await c.post("/v1/videos", json=apifree(f"shot {i}"))).json()["id"])
            clock.advance(1)
        await c.post("/v1/video/generations", json=seedance())  # another family: not listed
        first = (await c.get("/v1/videos", params={"limit": 2})).json()
        second = (await c.get("/v1/videos", params={"limit": 2, "after": first["last_id"]})).json()
        last = (await c.get("/v1/videos", params={"limit": 2, "after": second["last_id"]})).json()
        oldest = (await c.get("/v1/videos", params={"order": "asc", "limit": 1})).json()
        everything = (await c.get("/v1/videos")).json()
    assert first["object"] == "list" and [v["id"] for v in first["data"]] == [ids[4], ids[3]]
    assert first["first_id"] == ids[4] and first["last_id"] == ids[3] and first["has_more"]
    assert [v["id"] for v in second["data"]] == [ids[2], ids[1]] and second["has_more"]
    assert [v["id"] for v in last["data"]] == [ids[0]] and last["has_more"] is False
    assert [v["id"] for v in oldest["data"]] == [ids[0]]
    assert [v["id"] for v in everything["data"]] == ids[::-1]
    assert everything["data"][0]["status"] == "completed"
    assert everything["data"][0]["video_url"].startswith(emu.cdn_base_url)


async def test_a_list_under_an_api_prefix_shows_only_that_api() -> None:
    emu = emulator()
    async with client(emu) as c:
        sora = await c.post("/v1/videos", files=form({"model": "sora-2", "prompt": "x"}))
        await c.post("/v1/videos", json=apifree())
        anyfast = (await c.get("/anyfast/v1/videos")).json()
        everything = (await c.get("/v1/videos")).json()
    assert [v["id"] for v in anyfast["data"]] == [sora.json()["id"]]
    assert len(everything["data"]) == 2


async def test_list_parameters_are_checked() -> None:
    emu = emulator()
    async with client(emu) as c:
        await c.post("/v1/videos", json=apifree())
        too_many = await c.get("/v1/videos", params={"limit": 101})
        sideways = await c.get("/v1/videos", params={"order": "sideways"})
        lost = await c.get("/v1/videos", params={"after": "video_nope"})
        none = await c.get("/v1/videos", params={"limit": 0})
    async with client(emu, auth=False) as bare:
        unauthorized = await bare.get("/v1/videos")
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "limit"
    assert sideways.status_code == 400 and sideways.json()["error"]["param"] == "order"
    assert lost.status_code == 400 and lost.json()["error"]["param"] == "after"
    assert none.json()["data"] == [] and none.json()["has_more"] is True
    assert unauthorized.status_code == 401


async def test_a_deleted_video_is_gone_everywhere() -> None:
    emu = emulator()
    async with client(emu) as c:
        done = await _finish(c, await c.post("/v1/videos", json=apifree()))
        vid = done["id"]
        deleted = await c.delete(f"/v1/videos/{vid}")
        status = await c.get(f"/v1/videos/{vid}")
        content = await c.get(f"/v1/videos/{vid}/content")
        cdn = await c.get(str(done["video_url"]))
        again = await c.delete(f"/v1/videos/{vid}")
        listed = (await c.get("/v1/videos")).json()
    assert deleted.status_code == 200
    assert deleted.json() == {"id": vid, "object": "video.deleted", "deleted": True}
    assert status.status_code == 404 and status.json()["error"]["code"] == "video_not_found"
    assert content.status_code == 404 and cdn.status_code == 404
    assert again.status_code == 404 and listed["data"] == []


async def test_a_deletion_is_kept_in_the_store(tmp_path: Path) -> None:
    config = EmulatorConfig(job_seconds=0, store_dir=tmp_path)
    async with client(EmbeddedEmulator(config)) as c:
        kept = (await c.post("/v1/videos", json=apifree("kept"))).json()["id"]
        gone = (await c.post("/v1/videos", json=apifree("gone"))).json()["id"]
        assert (await c.delete(f"/v1/videos/{gone}")).status_code == 200
    async with client(EmbeddedEmulator(config)) as c:  # as a new process would
        assert (await c.get(f"/v1/videos/{gone}")).status_code == 404
        assert (await c.get(f"/v1/videos/{kept}")).status_code == 200


async def test_an_unserved_method_is_a_json_405_in_the_family_shape() -> None:
    emu = emulator()
    async with client(emu) as c:
        videos = await c.put("/v1/videos", json=apifree())
        tasks = await c.delete("/v1/video/generations/cgt-x")
        stats = await c.delete("/_emulator/stats")
    assert videos.status_code == 405 and videos.json()["error"]["code"] == "method_not_allowed"
    assert videos.headers["allow"] == "GET, HEAD, POST"
    assert tasks.status_code == 405 and tasks.json()["code"] == "method_not_allowed"
    assert tasks.json()["data"] is None and "GET" in tasks.headers["allow"]
    assert stats.status_code == 405 and stats.json()["error"]["type"] == "invalid_request_error"
    assert emu.stats()["creates"]["total"] == 0


# -- stats ----------------------------------------------------------------------------------


async def test_stats_count_creates_polls_downloads_and_states() -> None:
    clock = Clock()
    emu = emulator(job_seconds=10, clock=clock)
    body = apifree()
    async with client(emu) as c:
        first = (await c.post("/v1/videos", json=body)).json()["id"]
        await c.post("/v1/videos", json=body)
        await c.post("/v1/videos", json=apifree("other"))
        await c.get(f"/v1/videos/{first}")
        clock.advance(10)
        await c.get(f"/v1/videos/{first}")
        await c.get(f"/v1/videos/{first}/content")
        served = (await c.get("/_emulator/stats")).json()
    stats = emu.stats()
    assert served["creates"] == stats["creates"]
    assert stats["creates"]["total"] == 3
    assert stats["creates"]["by_model"] == {"kling-video": 3}
    assert stats["creates"]["by_fingerprint"][request_fingerprint(body)] == 2
    assert sorted(stats["creates"]["by_fingerprint"].values()) == [1, 2]
    assert stats["polls"]["total"] == 2 and stats["polls"]["by_task"] == {first: 2}
    assert stats["downloads"]["total"] == 1 and stats["downloads"]["bytes"] > 0
    assert stats["tasks"]["succeeded"] == 3
    async with client(emu) as c:
        reset = await c.post("/_emulator/reset")
    assert reset.status_code == 200
    after = emu.stats()
    assert after["creates"]["total"] == 0 and after["polls"]["total"] == 0
    assert after["tasks"]["succeeded"] == 3  # the tasks themselves are kept
    emu.reset(everything=True)
    assert emu.stats()["tasks"]["succeeded"] == 0


async def test_stats_fingerprints_are_canonical() -> None:
    emu = emulator()
    async with client(emu) as c:
        await c.post(
            "/v1/videos", json={"prompt": "p", "model": "m", "seconds": "1", "size": "64x48"}
        )
        await c.post(
            "/v1/videos",
            content=json.dumps({"size": "64x48", "seconds": "1", "model": "m", "prompt": "p"}),
            headers={"content-type": "application/json"},
        )
    assert list(emu.stats()["creates"]["by_fingerprint"].values()) == [2]


def test_every_spec_route_is_served() -> None:
    emu = EmbeddedEmulator()
    paths = {getattr(r, "path", "") for r in emu.app.router.routes}
    for spec in default_registry():
        for path in spec.doc["paths"]:
            shaped = path.replace("{video_id}", "{id}").replace("{task_id}", "{id}")
            assert shaped in paths and f"/{spec.api}{shaped}" in paths


def test_fault_text_round_trips() -> None:
    faults = Faults.parse(
        "429=0.1, 5xx=0.03 ,reset=0.02,truncate=0.02,fail=0.01,slow=0.05,expire=0"
    )
    assert faults.rate("502") == pytest.approx(0.01) and "expire" not in faults.rates
    assert Faults.parse(str(faults)) == faults
    assert Faults({"429": 0.1}).rate("429") == 0.1 and not Faults()
    for bad in ("429", "teapot=0.1", "429=2", "429=0.6,500=0.6", "429=x"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


async def test_reference_images_reach_the_render() -> None:
    emu = emulator()
    red, blue = png(color=(220, 20, 20)), png(color=(20, 20, 220))
    async with client(emu) as c:
        shots = []
        for image in (red, blue):
            create = await c.post(
                "/v1/video/generations",
                json=seedance(
                    content=[
                        {"type": "text", "text": "same"},
                        {"type": "image_url", "image_url": {"url": data_url(image)}},
                    ]
                ),
            )
            done = await _finish(c, create)
            shots.append((await c.get(done["data"]["result_url"])).content)  # type: ignore[index]
        bad = await c.post(
            "/v1/video/generations", json=happyhorse(image="data:image/png;base64,!!")
        )
    assert shots[0] != shots[1]
    assert bad.status_code == 400 and "base64" in bad.json()["message"]
