"""End to end: the example storyboard through `vidpipe run` on a real loopback emulator.

The providers are pointed at a uvicorn-served emulator through `${X_BASE_URL}`; the emulator
validates every request against its spec (a 400 would fail the run) and accepts only the keys
set here, so a successful run also proves each key was sent. The wire-format tests at the end
run storyboards through the runner with a recording transport in front of the emulator.

The loopback helpers here (`loopback`, `copy_example`, `KEYS`) are shared with the CLI and
bad-input tests.
"""

from __future__ import annotations

import base64
import contextlib
import email.parser
import email.policy
import hashlib
import json
import re
import shutil
import string
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import av
import httpx
import pytest
from click.testing import CliRunner, Result
from starlette.types import Receive, Scope, Send

import vidpipe.emulator.app
import vidpipe.emulator.server
from vidpipe import retry
from vidpipe.api import run
from vidpipe.cli import main
from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig, running_server
from vidpipe.emulator.render import probe
from vidpipe.fingerprint import safe_filename
from vidpipe.model import ProviderConfig
from vidpipe.runner import RunOptions

from .specvalues import model, smallest_size

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# Environment prefix -> the API whose emulator prefix the provider is pointed at.
APIS = {"ANYFAST": "anyfast", "APIFREE": "apifree", "NEWAPI": "newapi"}
KEYS = {
    "ANYFAST": "sk-anyfast-e2e-3f9c1b7d5a",
    "APIFREE": "sk-apifree-e2e-8e2d4c6a0b",
    "NEWAPI": "sk-newapi-e2e-1a7f3e9c5d",
}
# The example's shots: (width, height, seconds) each asks for.
EXPECTED = {
    "establish": (1280, 720, 4.0),
    "closeup": (1280, 720, 5.0),
    "night": (1280, 720, 4.0),
    "poster": (1280, 720, 4.0),
    "drone": (1280, 720, 4.0),
    "hillside[take=1]": (1280, 720, 5.0),
    "hillside[take=2]": (1280, 720, 5.0),
    "onward": (1280, 720, 4.0),
    "portrait[model=kling-video]": (1280, 720, 4.0),
    "portrait[model=veo3]": (1280, 720, 4.0),
    "finale": (1280, 720, 4.0),
}
SPEC_OF = {
    "establish": "anyfast_sora",
    "night": "anyfast_sora",
    "closeup": "anyfast_seedance",
    "poster": "anyfast_happyhorse",
    "drone": "apifree",
    "hillside[take=1]": "newapi",
    "hillside[take=2]": "newapi",
    "onward": "anyfast_sora",
    "portrait[model=kling-video]": "newapi",
    "portrait[model=veo3]": "newapi",
    "finale": "newapi",
}


def mp4(shot: str) -> str:
    """The file a shot's video is placed in (a variant's id is made a safe file name)."""
    return f"{safe_filename(shot)}.mp4"


# -- shared helpers: a counted loopback emulator and a copy of the example -------------------


class CountingApp:
    """The emulator app, keeping every request it is sent (except its own /_emulator routes)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_emulator/"):
            self.requests.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


@attrs.define
class Loopback:
    """A running loopback emulator: its URL, every request it served, and its stats."""

    base_url: str
    app: CountingApp

    @property
    def requests(self) -> list[str]:
        return list(self.app.requests)

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.base_url}/_emulator/stats").json()
        return answer

    def env(self, keys: Mapping[str, str] | None = None) -> dict[str, str]:
        """`${X_BASE_URL}` (and keys) pointing each example provider at this emulator."""
        env = {f"{p}_BASE_URL": f"{self.base_url}/{api}" for p, api in APIS.items()}
        env.update({f"{p}_API_KEY": key for p, key in (keys or {}).items()})
        env["NO_COLOR"] = "1"
        return env

    def reset(self) -> None:
        self.app.requests.clear()
        httpx.post(f"{self.base_url}/_emulator/reset")


@contextlib.contextmanager
def loopback(config: EmulatorConfig | None = None) -> Iterator[Loopback]:
    """`emulator.running_server`, with every request it serves counted."""
    apps: list[CountingApp] = []
    real = vidpipe.emulator.app.create_app

    def counting(config: EmulatorConfig | None = None) -> Any:
        apps.append(CountingApp(real(config)))
        return apps[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vidpipe.emulator.server, "create_app", counting)
        with running_server(config or EmulatorConfig(job_seconds=0)) as base:
            yield Loopback(base, apps[0])


def copy_example(dest: Path) -> Path:
    """The example storyboard and its assets copied to `dest`; returns the storyboard."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLES / "assets", dest / "assets")
    board = dest / "storyboard.yaml"
    shutil.copyfile(EXAMPLES / "storyboard.yaml", board)
    return board


def decoded_frames(path: Path) -> int:
    """How many frames of the file's video stream decode (raises if it cannot be decoded)."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


# A plain progress line: "[   1.2s] closeup  running  50 %  ..."
PLAIN_LINE = re.compile(r"^\[\s*\d+\.\ds\] (\S+)\s+(\S+)")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the example, run twice through the CLI -------------------------------------------------


@attrs.frozen
class ExampleRun:
    root: Path
    out: Path
    first: Result
    stats: dict[str, Any]
    requests: list[str]
    manifest: dict[str, Any]
    rerun: Result
    rerun_stats: dict[str, Any]
    rerun_requests: list[str]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleRun]:
    root = tmp_path_factory.mktemp("example")
    board = copy_example(root)
    config = EmulatorConfig(job_seconds=0, api_keys=KEYS.values())
    with loopback(config) as server, retry.set_testing(True):
        cli = CliRunner(env=server.env(KEYS))
        argv = ["run", str(board), "--out", str(root / "out"), "--json"]
        first = cli.invoke(main, argv, catch_exceptions=False)
        stats, requests = server.stats(), server.requests
        out = root / "out" / "sunflower-cat"
        manifest = json.loads((out / "manifest.json").read_text())
        server.reset()
        rerun = cli.invoke(main, argv, catch_exceptions=False)
        rerun_stats, rerun_requests = server.stats(), server.requests
    yield ExampleRun(
        root, out, first, stats, requests, manifest, rerun, rerun_stats, rerun_requests
    )


pytestmark = pytest.mark.e2e


def test_the_example_runs_every_shot_and_exits_0(example: ExampleRun) -> None:
    assert example.first.exit_code == 0, example.first.stderr
    summary = json.loads(example.first.stdout)
    assert summary["ok"] is True and summary["exit_code"] == 0
    assert {s: v["status"] for s, v in summary["shots"].items()} == dict.fromkeys(EXPECTED, "done")
    assert summary["final"]["status"] == "done"
    visible = [p.name for p in example.out.iterdir() if not p.name.startswith(".")]
    outputs = ["final.mp4", "final.vtt", "manifest.json", "report.html", "sheets"]
    assert sorted(visible) == sorted([*(mp4(s) for s in EXPECTED), *outputs])


@pytest.mark.parametrize("shot", list(EXPECTED))
def test_each_shot_is_a_decodable_mp4_of_the_requested_size_and_duration(
    example: ExampleRun, shot: str
) -> None:
    path = example.out / mp4(shot)
    info = probe(path)
    width, height, seconds = EXPECTED[shot]
    assert (info.width, info.height) == (width, height)
    assert info.duration == pytest.approx(seconds, abs=0.05)
    assert decoded_frames(path) == info.frames > 0


def test_the_final_cut_lasts_as_long_as_its_shots(example: ExampleRun) -> None:
    concat = example.manifest["final"]["concat"]
    assert concat == [
        "establish",
        "closeup",
        "night",
        "drone",
        "finale",
        "hillside[take=1]",
        "onward",
        "portrait[model=kling-video]",
    ]
    final = probe(example.out / "final.mp4")
    parts = [probe(example.out / mp4(s)).duration for s in concat]
    parts[5] = 3.0  # hillside ends at 3 s
    expected = sum(parts) - 0.5 * (len(parts) - 1)  # the crossfades
    assert example.manifest["final"]["expected_duration"] == pytest.approx(expected, abs=0.05)
    assert final.duration == pytest.approx(expected, abs=0.1)
    assert (final.width, final.height) == (640, 360)
    assert decoded_frames(example.out / "final.mp4") == final.frames
    assert example.manifest["final"]["sha256"] == sha256(example.out / "final.mp4")


def test_each_api_got_its_creates_polls_and_downloads_and_rejected_nothing(
    example: ExampleRun,
) -> None:
    stats = example.stats
    assert stats["rejected"] == {} and stats["faults"] == {}
    assert stats["creates"]["total"] == 11 and stats["creates"]["remix"] == 1
    by_spec: dict[str, int] = {}
    for spec in SPEC_OF.values():
        by_spec[spec] = by_spec.get(spec, 0) + 1
    assert stats["creates"]["by_spec"] == by_spec
    tasks = {entry["task_id"] for entry in example.manifest["shots"].values()}
    assert set(stats["polls"]["by_task"]) == tasks
    assert stats["downloads"]["total"] == 11
    # Each request went to its API's prefix: the base URLs came from ${X_BASE_URL}.
    creates = [r for r in example.requests if r.startswith("POST")]
    assert sorted(r.split("/")[1] for r in creates) == sorted(
        ["anyfast"] * 5 + ["apifree"] + ["newapi"] * 5
    )


def test_the_manifest_records_each_shot(example: ExampleRun) -> None:
    shots = example.manifest["shots"]
    assert example.manifest["ok"] is True and example.manifest["seed"] == 1234
    assert list(shots) == list(EXPECTED)
    for shot_id, entry in shots.items():
        file = example.out / entry["file"]
        assert entry["status"] == "done"
        assert entry["spec"]["name"] == SPEC_OF[shot_id]
        assert entry["file"] == mp4(shot_id)
        assert entry["sha256"] == sha256(file) and entry["bytes"] == file.stat().st_size
        assert entry["task_id"] and "{{" not in entry["prompt"]
        assert entry["request"]["model"] == entry["model"]
        assert set(entry["timings"]) == {"submitted", "completed", "downloaded", "seconds"}
        assert 0 < entry["timings"]["submitted"] <= entry["timings"]["seconds"]
    assert shots["drone"]["provider"] == "apifree" and shots["finale"]["provider"] == "gateway"
    assert shots["closeup"]["model"] == "seedance-fast"
    assert shots["drone"]["prompt"] == (
        "A drone shot rising over a sunflower field on a hillside, golden hour, "
        "a ginger cat in a blue scarf far below"
    )
    # Local files are recorded by name and digest, never their bytes.
    poster = sha256(EXAMPLES / "assets" / "poster.png")
    assert shots["establish"]["request"]["input_reference"] == {
        "file": "poster.png",
        "sha256": poster,
        "bytes": (EXAMPLES / "assets" / "poster.png").stat().st_size,
    }
    assert shots["poster"]["request"]["image"]["sha256"] == poster
    # Seeds: sent where the API takes one, recorded as absent where it does not.
    assert shots["finale"]["seed"] == shots["finale"]["request"]["seed"]
    assert shots["finale"]["seed_reproducible"] is True
    assert shots["establish"]["seed"] is None and shots["establish"]["seed_reproducible"] is False
    assert "seed" not in shots["establish"]["request"]
    # The remix names its source shot and the task id it was made from.
    assert shots["night"]["remix_of"] == "establish"
    assert shots["night"]["remix_task_id"] == shots["establish"]["task_id"]


def test_the_manifest_reads_as_json_dumps_indents_it(example: ExampleRun) -> None:
    text = (example.out / "manifest.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_no_key_reaches_any_file_or_output(example: ExampleRun) -> None:
    written = [p for p in example.root.rglob("*") if p.is_file()]
    ledger = [p for p in written if ".vidpipe" in p.parts and p.name.startswith("ledger")]
    assert ledger, "the run kept no ledger"
    captured = [
        example.first.stdout,
        example.first.stderr,
        example.rerun.stdout,
        example.rerun.stderr,
    ]
    for key in KEYS.values():
        for path in written:
            assert key.encode() not in path.read_bytes(), path
        for text in captured:
            assert key not in text


def test_the_report_shows_every_video(example: ExampleRun) -> None:
    report = (example.out / "report.html").read_text()
    assert report.startswith("<!doctype html>")
    for shot in EXPECTED:
        assert f'<video src="{mp4(shot)}"' in report
    assert '<video src="final.mp4"' in report


def test_progress_goes_to_stderr_as_plain_lines(example: ExampleRun) -> None:
    assert "\x1b[" not in example.first.stderr
    text = example.first.stderr.splitlines()
    # First one warning per model its spec marks shut down (sora-2), then the run states
    # its limits in one line (no provider block sets its own), then the progress.
    warnings = [line for line in text if line.startswith("warning: ")]
    assert len(warnings) == 1 and "model sora-2 was shut down" in warnings[0]
    assert text[0] == warnings[0]
    limits, *rest = text[1:]
    assert limits.startswith("limits: 4 tasks in flight (--concurrency); per provider: ")
    lines = [PLAIN_LINE.match(line) for line in rest]
    assert all(lines), example.first.stderr
    for shot in EXPECTED:
        phases = [m.group(2) for m in lines if m and m.group(1) == shot]
        assert phases[0] == "submitting" and phases[-1] == "done"
        assert "queued" in phases and "downloading" in phases


def test_a_rerun_sends_no_create_and_gives_the_same_files(example: ExampleRun) -> None:
    assert example.rerun.exit_code == 0, example.rerun.stderr
    summary = json.loads(example.rerun.stdout)
    assert {v["status"] for v in summary["shots"].values()} == {"cached"}
    assert example.rerun_requests == []
    assert example.rerun_stats["creates"]["total"] == 0
    for shot, entry in example.manifest["shots"].items():
        assert summary["shots"][shot]["sha256"] == entry["sha256"]
        assert sha256(example.out / mp4(shot)) == entry["sha256"]


# -- the wire format of each API, through the runner ------------------------------------------


@attrs.define
class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and keeps each one with its body."""

    inner: httpx.AsyncBaseTransport
    sent: list[httpx.Request] = attrs.Factory(list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


def body(request: httpx.Request) -> dict[str, Any]:
    """A create's fields: JSON as is; multipart text parts as text, files as (name, type, bytes)."""
    kind = request.headers["content-type"]
    if kind.startswith("application/json"):
        data: dict[str, Any] = json.loads(request.content)
        return data
    assert kind.startswith("multipart/form-data")
    head = f"Content-Type: {kind}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        filename = part.get_filename()
        fields[name] = (
            (filename, part.get_content_type(), payload) if filename else payload.decode()
        )
    return fields


#: The free-form APIs' values: small ones they allow (a spec change moves them, not the test).
WIRE_VALUES = {
    "free_model": model("apifree", prefer="wan-2"),
    "free_size": smallest_size("apifree"),
    "gate_model": model("newapi", prefer="veo3"),
    "gate_size": smallest_size("newapi"),
}
WIRE = """\
version: 1
name: wire
seed: 99
providers:
  anyfast: {api: anyfast, base_url: "http://emulator.embedded/anyfast", api_key: "${WIRE_KEY}"}
  free: {api: apifree, base_url: "http://emulator.embedded/apifree", api_key: "${WIRE_KEY}"}
  gateway: {api: newapi, base_url: "http://emulator.embedded/newapi", api_key: "${WIRE_KEY}"}
defaults: {provider: anyfast, duration: 1}
shots:
  - id: sora
    model: sora-2
    seconds: 4
    size: 720x1280
    image: ref.png
    prompt: a kite
  - id: sora-night
    remix: sora
    model: sora-2
    seconds: 4
    size: 720x1280
    prompt: the kite at night
  - id: dance
    model: seedance-fast
    resolution: 480p
    ratio: "1:1"
    image: ref.png
    prompt: a dancer
    params: {generate_audio: false}
  - id: horse
    model: happyhorse-1.0-i2v
    image: ref.png
    duration: 3
    resolution: 720P
    ratio: "1:1"
    seed: 5
    prompt: zoom in
  - id: free
    provider: free
    model: $free_model
    size: $free_size
    prompt: a boat
  - id: free-again
    provider: free
    model: $free_model
    remix: free
    prompt: the boat in rain
  - id: gate
    provider: gateway
    model: $gate_model
    size: $gate_size
    prompt: a bird
  - id: gate-again
    provider: gateway
    model: $gate_model
    remix: gate
    prompt: the bird at dawn
"""


@pytest.fixture
def wire_run(tmp_path: Path) -> tuple[Recorder, dict[str, Any], bytes]:
    png = (EXAMPLES / "assets" / "poster.png").read_bytes()
    (tmp_path / "ref.png").write_bytes(png)
    board = tmp_path / "wire.yaml"
    board.write_text(string.Template(textwrap.dedent(WIRE)).safe_substitute(WIRE_VALUES))
    emu = EmbeddedEmulator(EmulatorConfig(job_seconds=0, api_keys="sk-wire-key"))
    recorder = Recorder(emu.transport())

    def transport_for(provider: ProviderConfig) -> httpx.AsyncBaseTransport:
        return recorder

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WIRE_KEY", "sk-wire-key")
        result = run(
            board,
            RunOptions(out_dir=tmp_path / "out", transport_for=transport_for),
        )
    assert {s.shot_id: s.status for s in result.shots.values()} == dict.fromkeys(
        ["sora", "sora-night", "dance", "horse", "free", "free-again", "gate", "gate-again"],
        "done",
    ), [s.error for s in result.shots.values()]
    manifest = json.loads(result.manifest.read_text()) if result.manifest else {}
    return recorder, manifest, png


def test_every_api_receives_exactly_the_fields_of_its_spec(
    wire_run: tuple[Recorder, dict[str, Any], bytes],
) -> None:
    recorder, manifest, png = wire_run
    shots = manifest["shots"]
    sent = {r.url.path: r for r in recorder.sent if r.method == "POST"}
    task = {s: shots[s]["task_id"] for s in shots}
    image = ("ref.png", "image/png", png)
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()

    sora = [r for r in recorder.sent if r.method == "POST" and r.url.path == "/anyfast/v1/videos"]
    assert [body(r) for r in sora] == [
        {
            "model": "sora-2",
            "prompt": "a kite",
            "seconds": "4",
            "size": "720x1280",
            "input_reference": image,
        },
        # A sora remix is a create carrying the source's task id.
        {
            "model": "sora-2",
            "prompt": "the kite at night",
            "seconds": "4",
            "size": "720x1280",
            "remix_video_id": task["sora"],
        },
    ]
    generations = [
        body(r)
        for r in recorder.sent
        if r.method == "POST" and r.url.path == "/anyfast/v1/video/generations"
    ]
    assert sorted(generations, key=lambda b: b["model"]) == [
        {
            "model": "happyhorse-1.0-i2v",
            "prompt": "zoom in",
            "image": data_url,
            "duration": 3,
            "resolution": "720P",
            "ratio": "1:1",
            "seed": 5,
        },
        {
            "model": "seedance-fast",
            "content": [
                {"type": "text", "text": "a dancer"},
                {"type": "image_url", "image_url": {"url": data_url}, "role": "reference_image"},
            ],
            "duration": 1,
            "resolution": "480p",
            "ratio": "1:1",
            "generate_audio": False,
        },
    ]
    assert body(sent["/apifree/v1/videos"]) == {
        "model": WIRE_VALUES["free_model"],
        "prompt": "a boat",
        "seconds": 1,
        "size": WIRE_VALUES["free_size"],
    }
    gate_seed = shots["gate"]["seed"]
    assert isinstance(gate_seed, int)
    assert body(sent["/newapi/v1/videos"]) == {
        "model": WIRE_VALUES["gate_model"],
        "prompt": "a bird",
        "duration": "1",
        "size": WIRE_VALUES["gate_size"],
        "seed": str(gate_seed),
    }
    # apifree and newapi remix through the endpoint named by the source task, prompt only.
    assert body(sent[f"/apifree/v1/videos/{task['free']}/remix"]) == {"prompt": "the boat in rain"}
    assert body(sent[f"/newapi/v1/videos/{task['gate']}/remix"]) == {"prompt": "the bird at dawn"}
    assert len([r for r in recorder.sent if r.method == "POST"]) == 8
    for request in recorder.sent:
        if request.url.host == "emulator.embedded":
            assert request.headers["authorization"] == "Bearer sk-wire-key"
        else:  # the CDN origin never sees the key
            assert "authorization" not in request.headers


def test_a_refused_key_fails_the_shot_without_showing_the_key(tmp_path: Path) -> None:
    board = copy_example(tmp_path)
    with loopback(EmulatorConfig(job_seconds=0, api_keys="sk-the-right-one")) as server:
        argv = ["run", str(board), "--out", str(tmp_path / "out"), "--only", "drone", "--json"]
        result = CliRunner(env=server.env(KEYS)).invoke(main, argv, catch_exceptions=False)
        assert server.requests == ["POST /apifree/v1/videos"]  # a 401 is never retried
    assert result.exit_code == 1
    drone = json.loads(result.stdout)["shots"]["drone"]
    assert drone["status"] == "failed" and "401" in drone["error"]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    for key in KEYS.values():
        assert key not in result.stdout + result.stderr
        for path in written:
            assert key.encode() not in path.read_bytes(), path
