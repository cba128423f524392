"""Fault injection: every kind reaches an httpx client, and the same seed repeats them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from vidpipe.emulator import EmulatorConfig, running_server
from vidpipe.emulator.faults import Fault, FaultPlan, Faults

from .emulator_fixtures import AUTH, Sleeps, apifree, client, emulator, seedance


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
