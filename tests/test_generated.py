"""generated/: rebuilt exactly by `make regen`, importable, lint-clean, and working on the wire.

Also the index module of every package (role -> operation, body and answer classes, the
spec's sha256) and the check that refuses a missing or stale client.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from vidpipe import specs as specs_module
from vidpipe.adapters import check_client, client_index, make_adapter, registry
from vidpipe.codegen import drift, regenerate
from vidpipe.errors import SpecError
from vidpipe.openapi import SPEC_DIR
from vidpipe.specs import default_registry, load_spec
from vidpipe.transport import Connection

from .conftest import ROOT

GENERATED = ROOT / "generated"
REGISTRY = ROOT / "pipeline" / "adapters" / "registry.py"
PACKAGES = sorted(s.name for s in default_registry())
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh `make regen` of specs/ (generated packages, and registry.py beside them)."""
    out = tmp_path_factory.mktemp("regen")
    regenerate(SPEC_DIR, out / "generated", out / "registry.py")
    return out


def test_regeneration_matches_the_committed_clients(fresh: Path) -> None:
    assert drift(fresh / "generated", GENERATED) == [], "generated/ is out of date: make regen"
    assert (fresh / "registry.py").read_text() == REGISTRY.read_text(), "run make regen"
    assert sorted(p.name for p in (fresh / "generated").iterdir()) == PACKAGES


def test_drift_names_a_package_without_a_spec_and_a_changed_file(
    fresh: Path, tmp_path: Path
) -> None:
    committed = tmp_path / "generated"
    shutil.copytree(GENERATED, committed, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(committed / "newapi", committed / "oldapi")  # its spec was deleted
    index = committed / "apifree" / "index.py"
    index.write_text(index.read_text().replace("SPEC_SHA256 = ", "SPEC_SHA256 = 'x' + "))
    shutil.rmtree(committed / "anyfast_sora")
    assert drift(fresh / "generated", committed) == [
        "oldapi: a generated package with no spec behind it (delete it)",
        "anyfast_sora: not generated (run make regen)",
        "apifree/index.py: differs from a fresh make regen",
    ]


def test_a_failed_regeneration_leaves_everything_as_it_was(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPEC_DIR, specs, ignore=shutil.ignore_patterns("*.yaml", "__pycache__"))
    shutil.copy(SPEC_DIR / "openapi-python-client.yaml", specs)
    shutil.copy(SPEC_DIR / "newapi.yaml", specs)
    broken = (SPEC_DIR / "apifree.yaml").read_text().replace("status: getVideo", "status: nope")
    (specs / "apifree.yaml").write_text(broken)
    out, reg = tmp_path / "generated", tmp_path / "registry.py"
    (out / "newapi").mkdir(parents=True)
    (out / "newapi" / "client.py").write_text("# the previous client\n")
    reg.write_text("# the previous registry\n")
    with pytest.raises(SpecError, match="operationId 'nope' not found"):
        regenerate(specs, out, reg)
    assert [p.name for p in out.iterdir()] == ["newapi"]  # no staging folder left behind
    assert (out / "newapi" / "client.py").read_text() == "# the previous client\n"
    assert reg.read_text() == "# the previous registry\n"


def test_every_generated_module_imports() -> None:
    count = 0
    for name in PACKAGES:
        package = importlib.import_module(f"vidpipe.generated.{name}")
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            importlib.import_module(info.name)
            count += 1
    assert count > 20


def test_generated_code_has_no_undefined_names() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run(
        [str(ruff), "check", "--isolated", "--no-cache", "--select", "F", str(GENERATED)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- a real round trip through each generated client ---------------------------------


def _video(video_id: str, status: str) -> dict[str, Any]:
    return {
        "id": video_id,
        "object": "video",
        "model": "m",
        "status": status,
        "progress": 100,
        "created_at": 1,
        "seconds": "4",
        "size": "1280x720",
        "brand_new_field": True,
    }


class Wire:
    """A tiny in-process provider: records what it got and answers like the gateways."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == "Bearer sk-test"
        path = request.url.path
        if request.method == "POST" and path == "/v1/videos":
            return httpx.Response(200, json=_video("video_1", "queued"))
        if request.method == "POST" and path == "/v1/video/generations":
            return httpx.Response(
                200,
                json={
                    "id": "cgt-1",
                    "task_id": "cgt-1",
                    "object": "video",
                    "model": "m",
                    "status": "",
                    "progress": 0,
                    "created_at": 1,
                },
            )
        if path == "/v1/videos/video_1":
            return httpx.Response(
                200, json=_video("video_1", "completed"), headers={"openai-poll-after-ms": "250"}
            )
        if path == "/v1/videos/video_1/content":
            return httpx.Response(200, content=b"MP4DATA", headers={"content-type": "video/mp4"})
        if path == "/v1/video/generations/cgt-1":
            return httpx.Response(
                200,
                json={
                    "code": "success",
                    "message": "",
                    "data": {
                        "task_id": "cgt-1",
                        "status": "SUCCESS",
                        "progress": "100%",
                        "result_url": "https://cdn.example/v.mp4",
                        "data": {"status": "succeeded"},
                    },
                },
            )
        return httpx.Response(404, json={"error": {"message": "no route", "type": "x"}})


def _client(package: str, wire: Wire) -> Any:
    module = importlib.import_module(f"vidpipe.generated.{package}.client")
    return module.AuthenticatedClient(
        base_url="https://api.example",
        token="sk-test",
        timeout=httpx.Timeout(5.0),
        httpx_args={"transport": httpx.MockTransport(wire)},
    )


def _multipart_parts(request: httpx.Request) -> dict[str, bytes]:
    body = request.read()
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    parts = {}
    for chunk in body.split(b"--" + boundary)[1:-1]:
        head, _, value = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        parts[name] = head + b"\n" + value
    return parts


@pytest.mark.parametrize("package", ["anyfast_sora", "newapi", "apifree"])
def test_videos_family_round_trip_with_reference_upload(package: str) -> None:
    g = f"vidpipe.generated.{package}"
    api = importlib.import_module(f"{g}.api.videos")
    models = importlib.import_module(f"{g}.models")
    types = importlib.import_module(f"{g}.types")
    wire = Wire()
    client = _client(package, wire)
    image = types.File(
        payload=__import__("io").BytesIO(PNG), file_name="ref.png", mime_type="image/png"
    )
    if package == "anyfast_sora":
        body = models.CreateVideoRequest(
            model=models.CreateVideoRequestModel.SORA_2, prompt="p", input_reference=image
        )
        field = "input_reference"
    elif package == "newapi":
        body = models.CreateVideoRequest(
            model=models.CreateVideoRequestModel.KLING_VIDEO, prompt="p", image=image, seed=7
        )
        field = "image"
    else:
        body = models.CreateVideoMultipartRequest(
            model="any-model", prompt="p", input_reference=image
        )
        field = "input_reference"
    importlib.import_module(f"{api.__name__}.create_video")
    created = api.create_video.sync_detailed(client=client, body=body)
    assert created.status_code == 200
    assert created.parsed.id == "video_1"
    parts = _multipart_parts(wire.requests[0])
    assert b'filename="ref.png"' in parts[field] and b"image/png" in parts[field]
    assert parts[field].endswith(PNG)
    assert parts["prompt"].endswith(b"p")

    importlib.import_module(f"{api.__name__}.get_video")
    status = api.get_video.sync_detailed(video_id="video_1", client=client)
    assert status.parsed.status == models.VideoStatus.COMPLETED
    assert status.parsed.additional_properties["brand_new_field"] is True
    assert status.headers["openai-poll-after-ms"] == "250"

    importlib.import_module(f"{api.__name__}.get_video_content")
    content = api.get_video_content.sync_detailed(video_id="video_1", client=client)
    assert content.status_code == 200
    assert content.content == b"MP4DATA"


def test_apifree_json_body_is_sent_as_json() -> None:
    from vidpipe.generated.apifree.api.videos import create_video
    from vidpipe.generated.apifree.models import CreateVideoJsonRequest

    wire = Wire()
    body = CreateVideoJsonRequest(model="video-model-id", prompt="p", size="1280x720", seconds=8)
    assert create_video.sync_detailed(client=_client("apifree", wire), body=body).status_code == 200
    sent = json.loads(wire.requests[0].read())
    assert sent == {"model": "video-model-id", "prompt": "p", "size": "1280x720", "seconds": 8}


@pytest.mark.parametrize("package", ["anyfast_seedance", "anyfast_happyhorse"])
def test_generations_family_round_trip(package: str) -> None:
    wire = Wire()
    client = _client(package, wire)
    models = importlib.import_module(f"vidpipe.generated.{package}.models")
    api = f"vidpipe.generated.{package}.api.video_generations"
    if package == "anyfast_seedance":
        create = importlib.import_module(f"{api}.create_video_generation")
        body = models.CreateVideoGenerationRequest(
            model=models.CreateVideoGenerationRequestModel.SEEDANCE_FAST,
            content=[
                models.ContentItem(type_=models.ContentItemType.TEXT, text="a cat"),
                models.ContentItem(
                    type_=models.ContentItemType.IMAGE_URL,
                    image_url=models.MediaUrl(url="data:image/png;base64,AA"),
                    role="reference_image",
                ),
            ],
            duration=5,
        )
    else:
        create = importlib.import_module(f"{api}.create_image_to_video")
        body = models.CreateImageToVideoRequest(
            model=models.CreateImageToVideoRequestModel.HAPPYHORSE_1_0_I2V,
            prompt="zoom",
            image="https://example.com/a.png",
            seed=1073741823,
        )
    created = create.sync_detailed(client=client, body=body)
    assert created.parsed.id == "cgt-1"
    sent = json.loads(wire.requests[0].read())
    if package == "anyfast_seedance":
        assert sent["content"][1] == {
            "type": "image_url",
            "role": "reference_image",
            "image_url": {"url": "data:image/png;base64,AA"},
        }
    else:
        assert sent["image"] == "https://example.com/a.png" and sent["seed"] == 1073741823
    get = importlib.import_module(f"{api}.get_video_generation")
    status = get.sync_detailed(task_id="cgt-1", client=client)
    assert status.parsed.data.status == models.TaskStatus.SUCCESS
    assert status.parsed.data.result_url == "https://cdn.example/v.mp4"


def test_an_unknown_status_parses_as_a_plain_string() -> None:
    from vidpipe.generated.anyfast_sora.models import Video

    video = Video.from_dict({"id": "v", "status": "cancelled"})
    assert video.status == "cancelled"


# --- the index of each client, and stale clients ---------------------------------------


def test_the_index_records_the_spec_it_was_generated_from() -> None:
    for spec in default_registry():
        index = registry.INDEXES[spec.name]()
        assert (spec.name, spec.sha256) == (index.SPEC, index.SPEC_SHA256)
        assert set(spec.operations) <= set(dir(index))
        assert set(index.CREATE_BODIES) == set(
            spec.operation("create").definition["requestBody"]["content"]
        )
    assert sorted(registry.INDEXES) == PACKAGES


@pytest.mark.parametrize(
    ("name", "role"),
    [(s.name, r) for s in default_registry() for r in s.operations if r != "create"],
)
async def test_each_role_of_the_index_calls_its_operation(name: str, role: str) -> None:
    spec = default_registry()[name]
    index = client_index(spec)
    sent: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)  # undocumented: the generated parser leaves it alone

    async with Connection("http://api.test", "k", transport=httpx.MockTransport(reply)) as conn:
        client = conn.api_client(index.AuthenticatedClient)
        if role == "remix":
            assert index.remix is not None and index.REMIX_BODY is not None
            body = index.REMIX_BODY.from_dict({"prompt": "p"})
            await index.remix("t/1", client=client, body=body)
        else:
            await getattr(index, role)("t/1", client=client)
    op = spec.operation(role)
    (request,) = sent
    path = op.path.replace(op.path[op.path.index("{") : op.path.index("}") + 1], "t%2F1")
    assert (request.method, request.url.raw_path.decode()) == (op.method, path)
    assert request.headers["authorization"] == "Bearer k"


def _copy_spec(tmp_path: Path, name: str, as_name: str | None = None, extra: str = "") -> Path:
    path = tmp_path / f"{as_name or name}.yaml"
    path.write_text((SPEC_DIR / f"{name}.yaml").read_text() + extra)
    return path


@pytest.fixture
def shipped_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`tmp_path` taken for the folder of the shipped specs: a spec there is one of vidpipe's
    own, whose client must come from `make regen` (a spec elsewhere is a user's, whose
    client is generated on first use)."""
    monkeypatch.setattr(specs_module, "SPEC_DIR", tmp_path)
    return tmp_path


async def test_a_client_generated_from_another_version_of_the_spec_is_stale(
    shipped_here: Path,
) -> None:
    tmp_path = shipped_here
    edited = load_spec(_copy_spec(tmp_path, "newapi", extra="# a doc change\n"))
    with pytest.raises(SpecError) as info:
        check_client(edited)
    assert str(info.value) == "generated client for newapi is stale: run make regen"
    with pytest.raises(SpecError, match="stale"):
        make_adapter(edited, Connection("http://api.test", "k"))
    check_client(load_spec(_copy_spec(tmp_path, "newapi")))  # the same bytes: up to date


def test_a_spec_without_a_generated_client_is_reported_missing(
    shipped_here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = shipped_here
    added = load_spec(_copy_spec(tmp_path, "newapi", as_name="brand_new"))
    with pytest.raises(SpecError) as info:
        check_client(added)
    assert str(info.value) == "generated client for brand_new is missing: run make regen"
    monkeypatch.setattr(specs_module, "SPEC_DIR", SPEC_DIR)  # the shipped newapi again

    def deleted() -> Any:
        raise ModuleNotFoundError("No module named 'vidpipe.generated.newapi'")

    monkeypatch.setattr(registry, "INDEXES", {**registry.INDEXES, "newapi": deleted})
    with pytest.raises(
        SpecError, match=r"^generated client for newapi is missing: run make regen$"
    ):
        check_client(default_registry()["newapi"])


def test_nothing_imported_at_run_time_imports_code_generation() -> None:
    code = (
        "import sys, vidpipe, vidpipe.cli, vidpipe.runner\n"
        "from vidpipe.adapters import make_adapter\n"
        "from vidpipe.specs import default_registry\n"
        "from vidpipe.transport import Connection\n"
        "conn = Connection('http://api.test', 'k')\n"
        "for spec in default_registry(): make_adapter(spec, conn)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('vidpipe.codegen', 'openapi_python'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
