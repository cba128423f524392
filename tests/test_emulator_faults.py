"""Fault injection: every kind reaches an httpx client, and the same seed repeats them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from vidpipe.emulator import EmulatorConfig, running_server
from vidpipe.emulator.faults import Fault, FaultPlan, Faults
from vidpipe.emulator.fingerprints import request_fingerprint

from .emulator_fixtures import AUTH, Clock, Sleeps, apifree, client, emulator, seedance


def _one(kind: str, **settings: Any) -> Any:
    return emulator(faults=Faults({kind: 1.0}), **settings)


async def test_429_carries_retry_after_and_creates_nothing() -> None:
    emu = _one("429", retry_after_seconds=1.5)
    async with client(emu) as c:
        videos = await c.post("/v1/videos", json=apifree())
        tasks = await c.post("/v1/video/generations", json=seedance())
    assert videos.status_code == 429
    assert videos.headers["retry-after"] == "2" and videos.headers["retry-after-ms"] == "1500"
    assert videos.json()["error"]["code"] == "rate_limit_exceeded"
    assert tasks.status_code == 429 and tasks.json()["data"] is None
    stats = emu.stats()
    assert stats["creates"]["total"] == 0 and stats["faults"] == {"429": 2}


async def test_500_is_json_and_502_503_are_proxy_html() -> None:
    for kind in ("500", "502", "503"):
        emu = _one(kind)
        async with client(emu) as c:
            r = await c.post("/v1/videos", json=apifree())
        assert r.status_code == int(kind)
        if kind == "500":
            assert r.json()["error"]["type"] == "server_error"
        else:
            assert r.headers["content-type"].startswith("text/html")
            assert "<html>" in r.text and "nginx" in r.text
        assert emu.stats()["creates"]["total"] == 0


async def test_a_reset_create_loses_the_answer_after_the_task_exists() -> None:
    emu = _one("reset")
    async with client(emu) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.post("/v1/videos", json=apifree())
    assert emu.stats()["creates"]["total"] == 1
    assert emu.stats()["faults"] == {"reset": 1}


async def test_a_reset_can_come_before_the_task_is_made() -> None:
    emu = _one("reset", reset_after_create=False)
    async with client(emu) as c:
        with pytest.raises(httpx.TransportError):
            await c.post("/v1/videos", json=apifree())
    assert emu.stats()["creates"]["total"] == 0


async def test_a_reset_on_a_poll_is_a_transport_error() -> None:
    emu = emulator(faults="reset=0.5", seed=1)
    outcomes = []
    async with client(emu) as c:
        created = None
        while created is None:
            try:
                created = (await c.post("/v1/videos", json=apifree())).json()["id"]
            except httpx.TransportError:
                continue
        for _ in range(12):
            try:
                outcomes.append((await c.get(f"/v1/videos/{created}")).status_code)
            except httpx.RemoteProtocolError:
                outcomes.append(0)
    assert 0 in outcomes and 200 in outcomes


async def test_truncate_declares_the_length_then_stops_early() -> None:
    truncating = emulator(faults="truncate=1.0")
    async with client(truncating) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        done = (await c.get(f"/v1/videos/{vid}")).json()
        async with c.stream("GET", f"/v1/videos/{vid}/content") as r:
            declared = int(r.headers["content-length"])
            got = b""
            with pytest.raises(httpx.RemoteProtocolError):
                async for chunk in r.aiter_raw():
                    got += chunk
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get(str(done["video_url"]))
    assert 0 < len(got) < declared
    assert truncating.stats()["faults"]["truncate"] == 2


async def test_truncation_only_hits_downloads() -> None:
    emu = emulator(faults="truncate=1.0")
    async with client(emu) as c:
        created = await c.post("/v1/videos", json=apifree())
        polled = await c.get(f"/v1/videos/{created.json()['id']}")
    assert created.status_code == 200 and polled.status_code == 200


async def test_slow_delays_the_answer_through_the_configured_sleep() -> None:
    sleeps = Sleeps()
    emu = emulator(faults="slow=1.0", slow_seconds=7.5, sleep=sleeps)
    async with client(emu) as c:
        r = await c.post("/v1/videos", json=apifree())
    assert r.status_code == 200
    assert sleeps.calls == [7.5]
    assert emu.stats()["creates"]["total"] == 1


async def test_fail_makes_the_task_fail() -> None:
    emu = _one("fail")
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        polled = (await c.get(f"/v1/videos/{vid}")).json()
        task = (await c.post("/v1/video/generations", json=seedance())).json()["id"]
        envelope = (await c.get(f"/v1/video/generations/{task}")).json()
    assert polled["status"] == "failed" and polled["error"]["message"]
    assert envelope["data"]["status"] == "FAILURE"
    assert emu.stats()["faults"] == {"fail": 2}


async def test_expire_completes_but_the_content_is_gone() -> None:
    emu = _one("expire")
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        polled = (await c.get(f"/v1/videos/{vid}")).json()
        content = await c.get(f"/v1/videos/{vid}/content")
        cdn = await c.get(polled["video_url"])
    assert polled["status"] == "completed"
    assert content.status_code == 404 and cdn.status_code == 410


async def _trace(seed: int) -> list[str]:
    emu = emulator(faults="429=0.2,500=0.1,503=0.1,reset=0.1,slow=0.1,fail=0.3", seed=seed)
    trace = []
    async with client(emu) as c:
        for i in range(25):
            try:
                r = await c.post("/v1/videos", json=apifree(f"shot {i % 5}"))
                trace.append(str(r.status_code))
                if r.status_code == 200:
                    polled = await c.get(f"/v1/videos/{r.json()['id']}")
                    status = polled.json()["status"] if polled.status_code == 200 else ""
                    trace.append(f"{polled.status_code}:{status}")
            except httpx.TransportError:
                trace.append("reset")
    trace.append(repr(sorted(emu.stats()["faults"].items())))
    return trace


async def test_the_same_seed_gives_the_same_faults() -> None:
    first, again, other = await _trace(5), await _trace(5), await _trace(6)
    assert first == again
    assert first != other
    kinds = {t for t in first if not t.startswith(("200", "2"))}
    assert {"429", "reset"} <= kinds


def test_fault_draws_depend_on_scope_not_on_interleaving() -> None:
    faults = Faults({"429": 0.5})
    a, b = FaultPlan(faults, 3), FaultPlan(faults, 3)
    seq_a = [a.draw("x", ["429"]) for _ in range(20)] + [a.draw("y", ["429"]) for _ in range(20)]
    ys = [b.draw("y", ["429"]) for _ in range(20)]
    xs = [b.draw("x", ["429"]) for _ in range(20)]
    assert seq_a == xs + ys
    assert {d.kind if isinstance(d, Fault) else None for d in seq_a} == {"429", None}
    a.reset()
    assert [a.draw("x", ["429"]) for _ in range(20)] == xs


def test_fault_rates_are_kept_per_kind() -> None:
    plan = FaultPlan(Faults({"429": 0.3, "reset": 0.1}), 0)
    draws = [plan.draw(f"s{i}", ["429", "reset", "500"]) for i in range(4000)]
    share = {k: sum(1 for d in draws if d and d.kind == k) / len(draws) for k in ("429", "reset")}
    assert share["429"] == pytest.approx(0.3, abs=0.03)
    assert share["reset"] == pytest.approx(0.1, abs=0.02)
    assert plan.draw("z", ["500"]) is None


@pytest.mark.e2e
def test_reset_and_truncate_on_a_real_socket() -> None:
    config = EmulatorConfig(job_seconds=0, faults="reset=1.0")
    with running_server(config) as base, httpx.Client(base_url=base, headers=AUTH) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/v1/videos", json=apifree())
        stats = c.get("/_emulator/stats").json()
    assert stats["creates"]["total"] == 1

    config = EmulatorConfig(job_seconds=0, faults="truncate=1.0")
    with running_server(config) as base, httpx.Client(base_url=base, headers=AUTH) as c:
        vid = c.post("/v1/videos", json=apifree()).json()["id"]
        url = c.get(f"/v1/videos/{vid}").json()["video_url"]
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(f"/v1/videos/{vid}/content")
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url)
    assert "localhost" in url and "127.0.0.1" in base


# -- lost create answers ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["created-502", "created-504"])
async def test_a_lost_create_answer_comes_after_the_task_exists(kind: str) -> None:
    emu = _one(kind)
    async with client(emu) as c:
        first = await c.post("/v1/videos", json=apifree())
        resent = await c.post("/v1/videos", json=apifree())
        listed = (await c.get("/v1/videos")).json()["data"]
    status = int(kind[-3:])
    for answer in (first, resent):
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html") and "nginx" in answer.text
    stats = emu.stats()
    assert stats["creates"]["total"] == 2
    assert stats["creates"]["by_fingerprint"] == {request_fingerprint(apifree()): 2}
    assert stats["faults"] == {kind: 2}
    assert len(listed) == 2  # both tasks exist and run
    assert {v["prompt"] for v in listed} == {"a red kite"}


async def test_a_lost_create_answer_can_be_json_in_the_family_shape() -> None:
    emu = emulator(faults=Faults({"created-504-json": 1.0}))
    async with client(emu) as c:
        videos = await c.post("/v1/videos", json=apifree())
        tasks = await c.post("/v1/video/generations", json=seedance())
    assert videos.status_code == 504
    assert videos.json()["error"]["code"] == "gateway_timeout"
    assert videos.json()["error"]["type"] == "server_error"
    assert tasks.status_code == 504 and tasks.json()["code"] == "gateway_timeout"
    assert tasks.json()["data"] is None
    assert emu.stats()["creates"]["by_spec"] == {"apifree": 1, "anyfast_seedance": 1}


async def test_a_remix_can_lose_its_answer_too() -> None:
    emu = _one("created-502-json")
    async with client(emu) as c:
        lost = await c.post("/v1/videos", json=apifree())
        source = (await c.get("/v1/videos")).json()["data"][0]["id"]  # found again by listing
        remix = await c.post(f"/v1/videos/{source}/remix", json={"prompt": "at night"})
    assert lost.status_code == 502
    assert remix.status_code == 502 and remix.json()["error"]["code"] == "bad_gateway"
    assert emu.stats()["creates"]["remix"] == 1 and emu.stats()["creates"]["total"] == 2


async def _created_trace(seed: int) -> list[int]:
    emu = emulator(faults="created-5xx=0.5", seed=seed)
    async with client(emu) as c:
        codes = [(await c.post("/v1/videos", json=apifree(f"s{i}"))).status_code for i in range(16)]
    assert emu.stats()["creates"]["total"] == 16  # every one of them made its task
    return codes


async def test_lost_create_answers_repeat_with_the_seed() -> None:
    first, again, other = await _created_trace(3), await _created_trace(3), await _created_trace(4)
    assert first == again and first != other
    assert {200, 502, 504} <= set(first)


# -- result URLs that refuse for a while --------------------------------------------------------


async def test_a_result_url_refuses_once_then_serves() -> None:
    emu = _one("url-403")
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        url = (await c.get(f"/v1/videos/{vid}")).json()["video_url"]
        cdn = [await c.get(url) for _ in range(2)]
        content = [await c.get(f"/v1/videos/{vid}/content") for _ in range(2)]
    assert [r.status_code for r in cdn] == [403, 200]
    assert cdn[0].headers["content-type"] == "application/xml"
    assert b"<Code>AccessDenied</Code>" in cdn[0].content
    assert [r.status_code for r in content] == [403, 200]
    assert content[0].json()["error"]["code"] == "content_forbidden"
    assert cdn[1].content == content[1].content and cdn[1].content[4:8] == b"ftyp"
    assert emu.stats()["faults"] == {"url-403": 2}


async def test_a_result_url_can_refuse_n_times_and_only_for_the_finished_video() -> None:
    clock = Clock()
    emu = emulator(faults="url-404=1x3", job_seconds=10, clock=clock)
    async with client(emu) as c:
        task = (await c.post("/v1/video/generations", json=seedance())).json()["id"]
        data = (await c.get(f"/v1/video/generations/{task}")).json()["data"]
        assert data["result_url"] == ""
        clock.advance(10)
        url = (await c.get(f"/v1/video/generations/{task}")).json()["data"]["result_url"]
        codes = [(await c.get(url)).status_code for _ in range(5)]
        part = await c.get(url, headers={"Range": "bytes=0-9"})
    assert codes == [404, 404, 404, 200, 200]
    assert part.status_code == 206


async def test_which_tasks_have_refusing_urls_repeats_with_the_seed() -> None:
    async def refused(seed: int) -> list[bool]:
        emu = emulator(faults="url-403=0.5", seed=seed)
        out = []
        async with client(emu) as c:
            for i in range(12):
                vid = (await c.post("/v1/videos", json=apifree(f"s{i}"))).json()["id"]
                url = (await c.get(f"/v1/videos/{vid}")).json()["video_url"]
                out.append((await c.get(url)).status_code == 403)
        return out

    first, again, other = await refused(1), await refused(1), await refused(2)
    assert first == again and first != other
    assert True in first and False in first


# -- bursts on status reads ---------------------------------------------------------------------


async def test_a_burst_is_n_answers_in_a_row_then_a_real_one() -> None:
    emu = emulator(faults="burst-502=1x3")
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        reads = [await c.get(f"/v1/videos/{vid}") for _ in range(9)]
    assert [r.status_code for r in reads] == [502, 502, 502, 200, 502, 502, 502, 200, 502]
    assert "Bad Gateway" in reads[0].text and reads[3].json()["status"] == "completed"
    assert emu.stats()["faults"] == {"burst-502": 7}
    assert emu.stats()["polls"]["total"] == 2


async def test_a_429_burst_carries_retry_after() -> None:
    emu = emulator(faults=Faults({"burst-429": 1.0}, counts={"burst-429": 2}))
    async with client(emu) as c:
        task = (await c.post("/v1/video/generations", json=seedance())).json()["id"]
        reads = [await c.get(f"/v1/video/generations/{task}") for _ in range(3)]
    assert [r.status_code for r in reads] == [429, 429, 200]
    assert reads[0].headers["retry-after"] == "1" and reads[0].json()["data"] is None


async def _burst_trace(seed: int) -> list[int]:
    emu = emulator(faults="burst-5xx=0.3x4", seed=seed)
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        return [(await c.get(f"/v1/videos/{vid}")).status_code for _ in range(40)]


async def test_bursts_repeat_with_the_seed_and_have_their_length() -> None:
    first, again, other = await _burst_trace(8), await _burst_trace(8), await _burst_trace(9)
    assert first == again and first != other
    runs, length = [], 0
    for code in [*first, 200]:
        if code == 200:
            if length:
                runs.append(length)
            length = 0
        else:
            length += 1
    assert runs and all(run == 4 for run in runs[:-1]) and 0 < runs[-1] <= 4
    assert {500, 502, 503, 504} & set(first)


def test_counts_parse_and_round_trip() -> None:
    faults = Faults.parse("url-403=0.5x2, burst-5xx=0.2x6, created-5xx=0.08, 429=0.1")
    assert faults.count("url-403") == 2 and faults.count("url-404") == 1
    assert faults.count("burst-504") == 6 and faults.rate("burst-504") == pytest.approx(0.05)
    assert faults.rate("created-502-json") == pytest.approx(0.02)
    assert faults.count("burst-429") == 3
    assert Faults.parse(str(faults)) == faults
    for bad in ("429=0.1x2", "url-403=1x0", "url-403=1xa", "url-403=0.6,url-404=0.6"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


@pytest.mark.e2e
def test_the_runner_facing_faults_on_a_real_socket() -> None:
    config = EmulatorConfig(job_seconds=0, faults="created-502=1,url-404=1,burst-429=1x2")
    with running_server(config) as base, httpx.Client(base_url=base, headers=AUTH) as c:
        lost = c.post("/v1/videos", json=apifree())
        stats = c.get("/_emulator/stats").json()
        vid = c.get("/v1/videos").json()["data"][0]["id"]
        reads = [c.get(f"/v1/videos/{vid}") for _ in range(3)]
        url = reads[-1].json()["video_url"]
        downloads = [httpx.get(url).status_code for _ in range(2)]
    assert lost.status_code == 502 and "nginx" in lost.text
    assert stats["creates"]["by_fingerprint"] == {request_fingerprint(apifree()): 1}
    assert [r.status_code for r in reads] == [429, 429, 200]
    assert downloads == [404, 200]
