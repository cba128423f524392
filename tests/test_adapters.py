"""The adapters on the wire: exact request fields per family, auth, status mapping, errors."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from vidpipe import retry
from vidpipe.adapters import (
    CreateRequest,
    GenerationsAdapter,
    LocalFile,
    TaskSnapshot,
    VideosAdapter,
    make_adapter,
)
from vidpipe.errors import (
    ContentExpired,
    HTTPStatusError,
    InputError,
    ProviderError,
    ResultRefused,
    TransportError,
    UnknownCreate,
)
from vidpipe.generated.anyfast_sora.models import Video, VideoMetadata
from vidpipe.generated.newapi.models import CreateVideoRequest as NewapiCreate
from vidpipe.pricing import SpendRule
from vidpipe.retry import RetryPolicies, RetryPolicy
from vidpipe.specs import Spec, default_registry
from vidpipe.transport import Connection

from .specvalues import model, smallest_size

API = "http://api.test"
CDN = "http://cdn.test"
KEY = "sk-test-0123456789abcdef"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _no_sleep() -> Iterator[None]:
    with retry.set_testing(True):
        yield


class Server:
    """A MockTransport handler: scripted replies per (method, path), every request kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list[Reply]] = {}

    def on(self, method: str, url: str, *replies: Reply) -> None:
        self.routes.setdefault((method, url), []).extend(replies)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, str(request.url.copy_with(query=None)))
        queue = self.routes.get(key)
        if not queue:
            return httpx.Response(599, text=f"no route for {key}")
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    def sent(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method]


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
async def conn(server: Server) -> Any:
    async with Connection(API, KEY, transport=httpx.MockTransport(server)) as connection:
        yield connection


def spec(name: str) -> Spec:
    return default_registry()[name]


def adapter(name: str, conn: Connection, **policies: RetryPolicy) -> Any:
    return make_adapter(spec(name), conn, retries=RetryPolicies(**policies))


@pytest.fixture
def ref_png(tmp_path: Path) -> LocalFile:
    path = tmp_path / "ref.png"
    path.write_bytes(PNG)
    return LocalFile(path, hashlib.sha256(PNG).hexdigest(), "image/png", len(PNG))


def request(name: str, fields: dict[str, Any], **kw: Any) -> CreateRequest:
    s = spec(name)
    model = kw.pop("model", None) or (s.models() or ("some-model",))[0]
    base: dict[str, Any] = {
        "shot_id": "shot1",
        "spec": s,
        "model": model,
        "fields": {"model": model, **fields},
        "files": {},
        "content_type": s.create_content_type,
        "remix_of": None,
        "remix_via": None,
        "remix_field": None,
    }
    base.update(kw)
    return CreateRequest(**base)


def video(id_: str = "video_1", status: str = "queued", **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": id_, "object": "video", "status": status, **extra})


@attrs.frozen
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


def multipart(req: httpx.Request) -> dict[str, Part]:
    head = f"Content-Type: {req.headers['content-type']}\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + req.content)
    assert msg.is_multipart()
    parts: dict[str, Part] = {}
    for p in msg.iter_parts():
        name = p.get_param("name", header="content-disposition")
        data = p.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(data, bytes)
        parts[name] = Part(name, p.get_filename(), p.get_content_type(), data)
    return parts


def data_url(payload: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


# -- create: the exact fields each family sends ---------------------------------------------


async def test_sora_create_is_multipart_with_the_reference_image_file(
    server: Server, conn: Connection, ref_png: LocalFile
) -> None:
    server.on("POST", f"{API}/v1/videos", video("video_abc"))
    req = request(
        "anyfast_sora",
        {"prompt": "a cat", "seconds": "8", "size": "1280x720"},
        files={"input_reference": ref_png},
    )
    snap = await adapter("anyfast_sora", conn).create(req)
    assert snap.task_id == "video_abc" and snap.state == "queued"
    (sent,) = server.requests
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    parts = multipart(sent)
    assert {k: p.data for k, p in parts.items() if k != "input_reference"} == {
        "model": b"sora-2",
        "prompt": b"a cat",
        "seconds": b"8",
        "size": b"1280x720",
    }
    image = parts["input_reference"]
    assert (image.filename, image.content_type, image.data) == ("ref.png", "image/png", PNG)


async def test_sora_remix_goes_in_the_create_field(server: Server, conn: Connection) -> None:
    server.on("POST", f"{API}/v1/videos", video("video_2"))
    req = request(
        "anyfast_sora",
        {"prompt": "at night"},
        remix_of="establish",
        remix_via="create-field",
        remix_field="remix_video_id",
    )
    await adapter("anyfast_sora", conn).create(req, remix_task_id="video_src")
    parts = multipart(server.requests[0])
    assert parts["remix_video_id"].data == b"video_src"
    assert parts["prompt"].data == b"at night"


async def test_newapi_create_sends_image_file_part_and_seed(
    server: Server, conn: Connection, ref_png: LocalFile
) -> None:
    server.on("POST", f"{API}/v1/videos", video("task_9"))
    req = request(
        "newapi",
        {"prompt": "p", "duration": 5, "seed": 42},
        model="veo3",
        files={"image": ref_png},
    )
    await adapter("newapi", conn).create(req)
    parts = multipart(server.requests[0])
    assert parts["model"].data == b"veo3"
    assert parts["seed"].data == b"42" and parts["duration"].data == b"5"
    assert (parts["image"].filename, parts["image"].content_type) == ("ref.png", "image/png")
    assert parts["image"].data == PNG


async def test_apifree_sends_json_without_a_file(server: Server, conn: Connection) -> None:
    server.on("POST", f"{API}/v1/videos", video("vid_json"))
    req = request("apifree", {"prompt": "p", "seconds": "4", "size": "720x1280"}, model="wan-2")
    await adapter("apifree", conn).create(req)
    sent = server.requests[0]
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {
        "model": "wan-2",
        "prompt": "p",
        "seconds": "4",
        "size": "720x1280",
    }


async def test_apifree_switches_to_multipart_for_a_file(
    server: Server, conn: Connection, ref_png: LocalFile
) -> None:
    server.on("POST", f"{API}/v1/videos", video("vid_mp"))
    req = request(
        "apifree",
        {"prompt": "p", "seconds": "4"},
        model="wan-2",
        files={"input_reference": ref_png},
        content_type="multipart/form-data",
    )
    await adapter("apifree", conn).create(req)
    parts = multipart(server.requests[0])
    assert parts["prompt"].data == b"p" and parts["model"].data == b"wan-2"
    ref = parts["input_reference"]
    assert (ref.filename, ref.content_type, ref.data) == ("ref.png", "image/png", PNG)


async def test_json_body_refuses_file_parts(conn: Connection, ref_png: LocalFile) -> None:
    req = request("apifree", {"prompt": "p"}, files={"input_reference": ref_png})
    with pytest.raises(InputError, match="cannot carry"):
        await adapter("apifree", conn).create(req)


async def test_apifree_remix_uses_the_endpoint_with_the_id_encoded(
    server: Server, conn: Connection
) -> None:
    server.on("POST", f"{API}/v1/videos/vid%2F..%2Fx%3Fa/remix", video("vid_remixed"))
    req = request(
        "apifree", {"prompt": "again", "seconds": "4"}, remix_of="a", remix_via="endpoint"
    )
    snap = await adapter("apifree", conn).create(req, remix_task_id="vid/../x?a")
    assert snap.task_id == "vid_remixed"
    (sent,) = server.requests
    assert sent.url.raw_path == b"/v1/videos/vid%2F..%2Fx%3Fa/remix"
    assert json.loads(sent.content) == {"prompt": "again"}


async def test_remix_needs_the_source_task_id(conn: Connection) -> None:
    req = request("apifree", {"prompt": "x"}, remix_of="a", remix_via="endpoint")
    with pytest.raises(InputError, match="task id"):
        await adapter("apifree", conn).create(req)


async def test_seedance_sends_content_items_with_a_data_url(
    server: Server, conn: Connection, ref_png: LocalFile
) -> None:
    server.on("POST", f"{API}/v1/video/generations", httpx.Response(200, json={"id": "cgt-1"}))
    content: list[dict[str, Any]] = [
        {"type": "text", "text": "a cat"},
        {"type": "image_url", "image_url": {"url": ref_png}, "role": "reference_image"},
        {
            "type": "image_url",
            "image_url": {"url": "https://img.test/f.png"},
            "role": "first_frame",
        },
    ]
    req = request("anyfast_seedance", {"content": content, "duration": 5, "ratio": "16:9"})
    snap = await adapter("anyfast_seedance", conn).create(req)
    assert snap.task_id == "cgt-1" and snap.state == "queued"
    sent = server.requests[0]
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {
        "model": "seedance-fast",
        "content": [
            {"type": "text", "text": "a cat"},
            {
                "type": "image_url",
                "image_url": {"url": data_url(PNG)},
                "role": "reference_image",
            },
            {
                "type": "image_url",
                "image_url": {"url": "https://img.test/f.png"},
                "role": "first_frame",
            },
        ],
        "duration": 5,
        "ratio": "16:9",
    }


async def test_seedance_local_file_in_place_of_the_url_object(
    server: Server, conn: Connection, ref_png: LocalFile
) -> None:
    server.on("POST", f"{API}/v1/video/generations", httpx.Response(200, json={"id": "cgt-2"}))
    content = [{"type": "image_url", "image_url": ref_png, "role": "first_frame"}]
    await adapter("anyfast_seedance", conn).create(
        request("anyfast_seedance", {"content": content})
    )
    sent_item = json.loads(server.requests[0].content)["content"][0]
    assert sent_item["image_url"] == {"url": data_url(PNG)}


async def test_happyhorse_sends_the_image_as_a_data_url(
    server: Server, conn: Connection, ref_png: LocalFile
) -> None:
    answer = {"id": "asyntask_1", "task_id": "asyntask_1", "status": ""}
    server.on("POST", f"{API}/v1/video/generations", httpx.Response(200, json=answer))
    req = request("anyfast_happyhorse", {"prompt": "zoom in", "image": ref_png, "seed": 7})
    await adapter("anyfast_happyhorse", conn).create(req)
    assert json.loads(server.requests[0].content) == {
        "model": "happyhorse-1.0-i2v",
        "prompt": "zoom in",
        "image": data_url(PNG),
        "seed": 7,
    }


async def test_a_local_file_that_changed_is_refused(conn: Connection, ref_png: LocalFile) -> None:
    ref_png.path.write_bytes(PNG + b"more")
    req = request("anyfast_happyhorse", {"prompt": "p", "image": ref_png})
    with pytest.raises(InputError, match="changed"):
        await adapter("anyfast_happyhorse", conn).create(req)


async def test_a_bad_enum_value_fails_before_sending(server: Server, conn: Connection) -> None:
    req = request("anyfast_sora", {"prompt": "p", "seconds": "5"})
    with pytest.raises(InputError):
        await adapter("anyfast_sora", conn).create(req)
    assert server.requests == []


# -- status mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("queued", "queued"),
        ("in_progress", "running"),
        ("unknown", "running"),
        ("rendering_soon", "running"),
        ("completed", "succeeded"),
        ("failed", "failed"),
    ],
)
@pytest.mark.parametrize("name", ["anyfast_sora", "apifree", "newapi"])
async def test_videos_status_mapping(
    server: Server, conn: Connection, name: str, word: str, state: str
) -> None:
    server.on("GET", f"{API}/v1/videos/v1", video("v1", word, progress=40, model="m"))
    snap = await adapter(name, conn).status("v1")
    assert (snap.state, snap.raw_status, snap.progress) == (state, word, 40)


async def test_videos_status_reads_hint_url_and_error(server: Server, conn: Connection) -> None:
    done = video("v1", "completed", progress=100, metadata={"url": f"{CDN}/v1.mp4"})
    done.headers["openai-poll-after-ms"] = "2500"
    failed = video("v2", "failed", error={"code": "moderation", "message": "blocked by policy"})
    server.on("GET", f"{API}/v1/videos/v1", done)
    server.on("GET", f"{API}/v1/videos/v2", failed)
    a = adapter("anyfast_sora", conn)
    snap = await a.status("v1")
    assert snap.poll_after == 2.5 and snap.result_url == f"{CDN}/v1.mp4"
    # the answer is parsed once, by the generated client, and kept as its model
    assert isinstance(snap.raw, Video) and isinstance(snap.raw.metadata, VideoMetadata)
    assert snap.raw.metadata.additional_properties == {"url": f"{CDN}/v1.mp4"}
    bad = await a.status("v2")
    assert bad.state == "failed" and bad.error == "blocked by policy"


def envelope(status: str | None, **task: Any) -> httpx.Response:
    data: dict[str, Any] = {"task_id": "cgt-1", **task}
    if status is not None:
        data["status"] = status
    return httpx.Response(200, json={"code": "success", "message": "", "data": data})


@pytest.mark.parametrize(
    ("answer", "state", "progress"),
    [
        (envelope("NOT_START", progress="0%"), "queued", 0),
        (envelope("SUBMITTED"), "queued", None),
        (envelope("IN_PROGRESS", progress="30%"), "running", 30),
        (envelope("UNKNOWN"), "running", None),
        (envelope("SUCCESS", progress="100%", result_url=f"{CDN}/r.mp4"), "succeeded", 100),
        (envelope("FAILURE", fail_reason="content rejected"), "failed", None),
        # an envelope word the spec does not know: the raw upstream status decides
        (envelope("PROCESSING", data={"status": "succeeded"}), "succeeded", None),
        (envelope("PROCESSING", data={"status": "cancelled"}), "failed", None),
        (envelope(None, data={"status": "running"}), "running", None),
        # neither word known: still running
        (envelope("PROCESSING", data={"status": "warming"}), "running", None),
        # some builds answer with the Video object instead
        (video("cgt-1", "in_progress", progress=55), "running", 55),
        (video("cgt-1", "completed", metadata={"url": f"{CDN}/m.mp4"}), "succeeded", None),
    ],
)
async def test_seedance_status_mapping(
    server: Server, conn: Connection, answer: httpx.Response, state: str, progress: int | None
) -> None:
    server.on("GET", f"{API}/v1/video/generations/cgt-1", answer)
    snap = await adapter("anyfast_seedance", conn).status("cgt-1")
    assert (snap.task_id, snap.state, snap.progress) == ("cgt-1", state, progress)


async def test_generations_result_url_error_and_old_data(server: Server, conn: Connection) -> None:
    a = adapter("anyfast_happyhorse", conn)
    cases = {
        "t1": envelope("SUCCESS", result_url=f"{CDN}/a.mp4"),
        "t2": envelope("SUCCESS", fail_reason=f"{CDN}/old.mp4"),  # old data kept the URL here
        "t3": envelope("FAILURE", fail_reason="quota exceeded"),
        "t4": envelope("QUEUED?", data={"output": {"task_status": "FAILED", "message": "nsfw"}}),
        "t5": envelope("SUCCESS", data={"output": {"video_url": f"{CDN}/up.mp4"}}),
        "t6": video("t6", "completed", metadata={"url": f"{CDN}/v.mp4"}),
    }
    for task_id, answer in cases.items():
        server.on("GET", f"{API}/v1/video/generations/{task_id}", answer)
    snaps = {t: await a.status(t) for t in cases}
    assert snaps["t1"].result_url == f"{CDN}/a.mp4"
    assert snaps["t2"].result_url == f"{CDN}/old.mp4" and snaps["t2"].error is None
    assert (snaps["t3"].state, snaps["t3"].error) == ("failed", "quota exceeded")
    assert (snaps["t4"].state, snaps["t4"].error) == ("failed", "nsfw")
    assert snaps["t5"].result_url == f"{CDN}/up.mp4"
    assert (snaps["t6"].state, snaps["t6"].result_url) == ("succeeded", f"{CDN}/v.mp4")


async def test_happyhorse_raw_dashscope_status_decides_when_the_envelope_is_unknown(
    server: Server, conn: Connection
) -> None:
    answer = envelope("WEIRD", data={"output": {"task_status": "RUNNING"}})
    server.on("GET", f"{API}/v1/video/generations/t1", answer)
    snap = await adapter("anyfast_happyhorse", conn).status("t1")
    assert (snap.state, snap.raw_status) == ("running", "WEIRD")


# -- errors -------------------------------------------------------------------------------


HTML_502 = httpx.Response(
    502, headers={"content-type": "text/html"}, text="<html><h1>502 Bad Gateway</h1></html>"
)


async def test_non_json_502_on_status_is_retried_then_reported(
    server: Server, conn: Connection
) -> None:
    server.on("GET", f"{API}/v1/videos/v1", HTML_502)
    a = adapter("newapi", conn, poll=RetryPolicy(attempts=3))
    with pytest.raises(HTTPStatusError) as info:
        await a.status("v1")
    assert info.value.status_code == 502 and "Bad Gateway" in info.value.body
    assert len(server.requests) == 3
    assert len(retry.recorded_waits("poll")) == 2


async def test_non_json_502_on_a_documented_status_code(server: Server, conn: Connection) -> None:
    # 500 is documented with a JSON body: the generated parser raises on the HTML one.
    html_500 = httpx.Response(500, text="<html>oops</html>")
    server.on("GET", f"{API}/v1/videos/v1", html_500, video("v1", "in_progress"))
    snap = await adapter("anyfast_sora", conn).status("v1")
    assert snap.state == "running" and len(server.requests) == 2


async def test_non_json_200_is_a_malformed_answer(server: Server, conn: Connection) -> None:
    server.on("GET", f"{API}/v1/videos/v1", httpx.Response(200, text="<html>hi</html>"))
    with pytest.raises(TransportError, match="not a JSON object"):
        await adapter("newapi", conn, poll=RetryPolicy(attempts=1)).status("v1")


@pytest.mark.parametrize("code", [400, 401, 403, 404])
async def test_client_errors_are_never_retried(server: Server, conn: Connection, code: int) -> None:
    body = {"error": {"message": "nope", "type": "invalid_request_error"}}
    server.on("GET", f"{API}/v1/videos/v1", httpx.Response(code, json=body))
    server.on("POST", f"{API}/v1/videos", httpx.Response(code, json=body))
    a = adapter("anyfast_sora", conn)
    with pytest.raises(HTTPStatusError) as info:
        await a.status("v1")
    assert info.value.status_code == code and "nope" in str(info.value)
    with pytest.raises(HTTPStatusError):
        await a.create(request("anyfast_sora", {"prompt": "p"}))
    assert len(server.requests) == 2
    assert retry.recorded_waits() == []


async def test_retry_after_and_retry_after_ms_are_honoured(
    server: Server, conn: Connection
) -> None:
    busy = httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow"}})
    busy_ms = httpx.Response(503, headers={"retry-after-ms": "1500", "Retry-After": "9"})
    server.on("GET", f"{API}/v1/videos/v1", busy, busy_ms, video("v1", "queued"))
    snap = await adapter("anyfast_sora", conn).status("v1")
    assert snap.state == "queued"
    assert retry.recorded_waits("poll") == [7.0, 1.5]


async def test_create_429_is_retried_after_the_wait(server: Server, conn: Connection) -> None:
    busy = httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {"message": "rl"}})
    server.on("POST", f"{API}/v1/videos", busy, video("v9"))
    snap = await adapter("newapi", conn).create(request("newapi", {"prompt": "p"}, model="veo3"))
    assert snap.task_id == "v9" and len(server.sent("POST")) == 2
    assert retry.recorded_waits("submit") == [2.0]


async def test_a_retried_create_builds_its_body_once_and_resends_the_whole_file(
    server: Server, conn: Connection, ref_png: LocalFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    original = NewapiCreate.from_dict

    def counting(cls: type[NewapiCreate], src_dict: dict[str, Any]) -> NewapiCreate:
        body = original(src_dict)
        built.append(body)
        return body

    monkeypatch.setattr(NewapiCreate, "from_dict", classmethod(counting))
    busy = httpx.Response(429, headers={"Retry-After": "1"})
    server.on("POST", f"{API}/v1/videos", httpx.ConnectError("refused"), busy, video("v7"))
    req = request("newapi", {"prompt": "p"}, model="veo3", files={"image": ref_png})
    snap = await adapter("newapi", conn, submit=RetryPolicy(attempts=3)).create(req)
    assert snap.task_id == "v7" and len(built) == 1
    sends = server.sent("POST")
    assert len(sends) == 3  # refused, then 429 (not taken), then taken
    for sent in sends[1:]:
        assert multipart(sent)["image"].data == PNG


async def test_an_answer_that_does_not_match_the_spec_is_read_from_its_json(
    server: Server, conn: Connection
) -> None:
    # newapi's Video requires object, model, progress and created_at: this one lacks them
    server.on(
        "GET", f"{API}/v1/videos/v1", httpx.Response(200, json={"id": "v1", "status": "completed"})
    )
    snap = await adapter("newapi", conn).status("v1")
    assert (snap.task_id, snap.state) == ("v1", "succeeded")
    assert snap.raw == {"id": "v1", "status": "completed"}


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
    ],
)
async def test_lost_create_answer_is_unknown_not_resent(
    server: Server, conn: Connection, failure: Exception
) -> None:
    server.on("POST", f"{API}/v1/videos", failure, video("never"))
    with pytest.raises(UnknownCreate) as info:
        await adapter("anyfast_sora", conn).create(request("anyfast_sora", {"prompt": "p"}))
    assert info.value.shot == "shot1"
    assert len(server.sent("POST")) == 1


async def test_connect_error_on_create_is_retried(server: Server, conn: Connection) -> None:
    server.on("POST", f"{API}/v1/videos", httpx.ConnectError("refused"), video("v5"))
    snap = await adapter("anyfast_sora", conn).create(request("anyfast_sora", {"prompt": "p"}))
    assert snap.task_id == "v5" and len(server.sent("POST")) == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>accepted</html>"),
        httpx.Response(200, json={"id": ".."}),
        httpx.Response(200, json={"object": "video"}),
    ],
)
async def test_create_answer_without_a_usable_id_is_unknown(
    server: Server, conn: Connection, answer: httpx.Response
) -> None:
    server.on("POST", f"{API}/v1/videos", answer)
    with pytest.raises(UnknownCreate):
        await adapter("newapi", conn).create(request("newapi", {"prompt": "p"}, model="veo3"))
    assert len(server.sent("POST")) == 1


async def test_key_never_appears_in_errors_or_reprs(server: Server, conn: Connection) -> None:
    echo = {"error": {"message": f"bad key Bearer {KEY}"}, "headers": {"Authorization": KEY}}
    server.on("GET", f"{API}/v1/videos/v1", httpx.Response(401, json=echo))
    a = adapter("anyfast_sora", conn)
    with pytest.raises(HTTPStatusError) as info:
        await a.status("v1")
    err = info.value
    assert KEY not in str(err) and KEY not in err.body and KEY not in repr(err)
    assert "***" in err.body
    assert KEY not in repr(conn) and KEY not in repr(a)


def test_a_key_with_control_characters_is_refused() -> None:
    with pytest.raises(InputError) as info:
        Connection(API, "sk-abc\r\nX-Injected: 1")
    assert "sk-abc" not in str(info.value)


# -- task ids in paths -----------------------------------------------------------------------


async def test_hostile_task_ids_are_percent_encoded(server: Server, conn: Connection) -> None:
    hostile = "a/../b?c=1#d e"
    encoded = "a%2F..%2Fb%3Fc%3D1%23d%20e"
    server.on("GET", f"{API}/v1/videos/{encoded}", video(hostile, "in_progress"))
    server.on("GET", f"{API}/v1/video/generations/{encoded}", envelope("QUEUED"))
    await adapter("anyfast_sora", conn).status(hostile)
    await adapter("anyfast_seedance", conn).status(hostile)
    assert [r.url.raw_path for r in server.requests] == [
        f"/v1/videos/{encoded}".encode(),
        f"/v1/video/generations/{encoded}".encode(),
    ]


@pytest.mark.parametrize("bad", ["", ".", "..", "a\nb", "x" * 600])
async def test_unusable_task_ids_are_refused_before_sending(
    server: Server, conn: Connection, bad: str
) -> None:
    with pytest.raises(ProviderError, match="unusable task id"):
        await adapter("anyfast_sora", conn).status(bad)
    assert server.requests == []


# -- downloads ---------------------------------------------------------------------------


def snap(task_id: str, result_url: str | None = None) -> TaskSnapshot:
    return TaskSnapshot(task_id, "succeeded", "completed", 100, None, result_url, None, {})


MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


async def test_download_from_the_content_route_carries_auth(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    server.on("GET", f"{API}/v1/videos/v%2F1/content", httpx.Response(200, content=MP4))
    seen: list[tuple[int, int | None]] = []
    got = await adapter("anyfast_sora", conn).download(
        snap("v/1"), tmp_path / "a.mp4", on_progress=lambda d, t: seen.append((d, t))
    )
    assert got.path.read_bytes() == MP4 and got.sha256 == hashlib.sha256(MP4).hexdigest()
    assert got.size == len(MP4) and seen[-1] == (len(MP4), len(MP4))
    (sent,) = server.requests
    assert sent.url.raw_path == b"/v1/videos/v%2F1/content"
    assert sent.headers["authorization"] == f"Bearer {KEY}"


async def test_cdn_url_is_fetched_without_auth(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    server.on("GET", f"{CDN}/files/v1.mp4", httpx.Response(200, content=MP4))
    got = await adapter("newapi", conn).download(
        snap("v1", f"{CDN}/files/v1.mp4"), tmp_path / "a.mp4"
    )
    assert got.path.read_bytes() == MP4
    (sent,) = server.requests
    assert sent.url.host == "cdn.test" and "authorization" not in sent.headers


async def test_same_host_other_port_is_another_origin(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    other = "http://api.test:8080/v.mp4"
    server.on("GET", other, httpx.Response(200, content=MP4))
    await adapter("anyfast_seedance", conn).download(snap("t", other), tmp_path / "a.mp4")
    assert "authorization" not in server.requests[0].headers


async def test_redirect_from_the_api_to_a_cdn_drops_auth(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    server.on(
        "GET",
        f"{API}/v1/videos/v1/content",
        httpx.Response(302, headers={"location": f"{CDN}/signed/v1.mp4?sig=1"}),
    )
    server.on("GET", f"{CDN}/signed/v1.mp4", httpx.Response(200, content=MP4))
    got = await adapter("anyfast_sora", conn).download(snap("v1"), tmp_path / "a.mp4")
    assert got.size == len(MP4)
    first, second = server.requests
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in second.headers


async def test_expired_cdn_url_falls_back_to_the_content_route(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    server.on("GET", f"{CDN}/v1.mp4", httpx.Response(403, text="Request has expired"))
    server.on("GET", f"{API}/v1/videos/v1/content", httpx.Response(200, content=MP4))
    got = await adapter("newapi", conn).download(snap("v1", f"{CDN}/v1.mp4"), tmp_path / "a.mp4")
    assert got.size == len(MP4) and len(server.requests) == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(410, json={"error": {}}),
        httpx.Response(404, json={"error": {"message": "The content of v1 has expired."}}),
    ],
)
async def test_content_the_provider_says_is_gone_is_content_expired(
    server: Server, conn: Connection, tmp_path: Path, answer: httpx.Response
) -> None:
    server.on("GET", f"{API}/v1/videos/v1/content", answer)
    with pytest.raises(ContentExpired):
        await adapter("apifree", conn).download(snap("v1"), tmp_path / "a.mp4")
    assert not (tmp_path / "a.mp4").exists() and not (tmp_path / "a.mp4.part").exists()
    assert len(server.requests) == 1


@pytest.mark.parametrize("code", [401, 403, 404])
async def test_a_refused_result_url_is_read_again_and_retried(
    server: Server, conn: Connection, tmp_path: Path, code: int
) -> None:
    refusal = httpx.Response(code, text="<Error><Code>AccessDenied</Code></Error>")
    server.on("GET", f"{CDN}/old.mp4", refusal)
    fresh = envelope("SUCCESS", result_url=f"{CDN}/new.mp4")
    server.on("GET", f"{API}/v1/video/generations/cgt-1", fresh)
    server.on("GET", f"{CDN}/new.mp4", refusal, httpx.Response(200, content=MP4))
    a = adapter("anyfast_seedance", conn)
    got = await a.download(snap("cgt-1", f"{CDN}/old.mp4"), tmp_path / "a.mp4")
    assert got.path.read_bytes() == MP4
    status = "/v1/video/generations/cgt-1"
    # the old URL; a status read for a fresh one, refused; read again, and the video
    assert [r.url.path for r in server.requests] == [
        "/old.mp4",
        status,
        "/new.mp4",
        status,
        "/new.mp4",
    ]
    assert retry.recorded_waits("download") == [None, None]  # backoff between the rounds


async def test_a_result_url_that_keeps_refusing_is_not_called_expired(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    server.on("GET", f"{CDN}/v.mp4", httpx.Response(403, text="Request has expired"))
    fresh = envelope("SUCCESS", result_url=f"{CDN}/v.mp4")
    server.on("GET", f"{API}/v1/video/generations/cgt-1", fresh)
    a = adapter("anyfast_seedance", conn, refresh=RetryPolicy(attempts=3))
    with pytest.raises(ResultRefused) as info:
        await a.download(snap("cgt-1", f"{CDN}/v.mp4"), tmp_path / "a.mp4")
    assert info.value.status_code == 403 and not isinstance(info.value, ContentExpired)
    assert [r.url.path for r in server.requests].count("/v.mp4") == 3
    assert not (tmp_path / "a.mp4").exists()


async def test_generations_download_refreshes_a_missing_result_url(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    server.on(
        "GET",
        f"{API}/v1/video/generations/cgt-1",
        envelope("SUCCESS", result_url=f"{CDN}/cgt-1.mp4"),
    )
    server.on("GET", f"{CDN}/cgt-1.mp4", httpx.Response(200, content=MP4))
    a = adapter("anyfast_seedance", conn)
    assert isinstance(a, GenerationsAdapter)
    got = await a.download(snap("cgt-1"), tmp_path / "s.mp4")
    assert got.path.read_bytes() == MP4
    assert "authorization" not in server.requests[-1].headers


async def test_download_resumes_after_a_truncated_body(
    server: Server, conn: Connection, tmp_path: Path
) -> None:
    cut = len(MP4) // 3

    def content(request: httpx.Request) -> httpx.Response:
        ranged = request.headers.get("range")
        if ranged is None:  # announces the full length, sends a third
            return httpx.Response(200, headers={"content-length": str(len(MP4))}, content=MP4[:cut])
        start = int(ranged.removeprefix("bytes=").rstrip("-"))
        return httpx.Response(
            206,
            headers={"content-range": f"bytes {start}-{len(MP4) - 1}/{len(MP4)}"},
            content=MP4[start:],
        )

    server.on("GET", f"{API}/v1/videos/v1/content", content)
    a = adapter("anyfast_sora", conn)
    assert isinstance(a, VideosAdapter)
    got = await a.download(snap("v1"), tmp_path / "a.mp4")
    assert got.path.read_bytes() == MP4 and got.sha256 == hashlib.sha256(MP4).hexdigest()
    assert [r.headers.get("range") for r in server.requests] == [None, f"bytes={cut}-"]


def test_every_spec_gets_its_family_adapter() -> None:
    conn = Connection(API, KEY)
    kinds = {s.name: type(make_adapter(s, conn)).__name__ for s in default_registry()}
    assert kinds == {
        "anyfast_sora": "VideosAdapter",
        "apifree": "VideosAdapter",
        "newapi": "VideosAdapter",
        "anyfast_seedance": "GenerationsAdapter",
        "anyfast_happyhorse": "GenerationsAdapter",
    }


async def test_smoke_against_the_embedded_emulator(tmp_path: Path) -> None:
    emulator = pytest.importorskip("vidpipe.emulator")
    if not hasattr(emulator, "EmbeddedEmulator"):
        pytest.skip("the embedded emulator is not available")
    from vidpipe.polling import PollSettings, poll

    # 5xx only on status reads: a 5xx answering a create may hide a task, so it is not resent
    faults = "429=0.25,burst-503=0.15x2,truncate=0.4"
    emu = emulator.EmbeddedEmulator(emulator.EmulatorConfig(job_seconds=0, faults=faults, seed=3))
    hard = RetryPolicy(attempts=10)
    async with Connection(emu.api_base_url("newapi"), "k", transport=emu.transport()) as c:
        a = make_adapter(spec("newapi"), c, retries=RetryPolicies(hard, hard, hard))
        fields = {"prompt": "a cat", "seconds": "4", "size": smallest_size("newapi")}
        first = await a.create(request("newapi", fields, model=model("newapi", "sora-2")))
        done = await poll(a, first.task_id, deadline_s=30, settings=PollSettings(floor=0.0))
        got = await a.download(done, tmp_path / "a.mp4")
        remix_req = request(
            "newapi",
            {"prompt": "at night"},
            model=model("newapi", "sora-2"),
            remix_of="a",
            remix_via="endpoint",
        )
        second = await a.create(remix_req, remix_task_id=done.task_id)
        again = await poll(a, second.task_id, deadline_s=30, settings=PollSettings(floor=0.0))
        remixed = await a.download(again, tmp_path / "b.mp4")
    assert got.path.read_bytes()[4:8] == b"ftyp" and remixed.size > 0
    assert got.sha256 == hashlib.sha256(got.path.read_bytes()).hexdigest()
    assert emu.stats()["creates"]["total"] == 2
    assert retry.recorded_waits()  # the faults were met and waited out


async def test_a_reset_create_on_the_emulator_is_unknown_and_sent_once() -> None:
    emulator = pytest.importorskip("vidpipe.emulator")
    if not hasattr(emulator, "EmbeddedEmulator"):
        pytest.skip("the embedded emulator is not available")
    emu = emulator.EmbeddedEmulator(emulator.EmulatorConfig(job_seconds=0, faults="reset=1.0"))
    async with Connection(emu.api_base_url("anyfast"), "k", transport=emu.transport()) as c:
        a = make_adapter(spec("anyfast_sora"), c)
        with pytest.raises(UnknownCreate):
            await a.create(request("anyfast_sora", {"prompt": "a cat", "seconds": "4"}))
    assert emu.stats()["creates"]["total"] == 1


async def test_a_status_answer_reports_what_the_task_was_charged(
    server: Server, conn: Connection
) -> None:
    server.on("GET", f"{API}/v1/video/generations/q1", envelope("SUCCESS", quota=240000))
    server.on("GET", f"{API}/v1/video/generations/q2", envelope("FAILURE", quota="120000"))
    server.on("GET", f"{API}/v1/video/generations/q3", envelope("IN_PROGRESS"))
    a = adapter("anyfast_happyhorse", conn)
    assert (await a.status("q1")).spend_usd == 0.48  # x-vidpipe.spend: data.quota
    assert (await a.status("q2")).spend_usd == 0.24  # a failed task is charged too
    assert (await a.status("q3")).spend_usd is None  # reported nothing: not zero


async def test_a_spec_may_read_the_charge_from_a_header(server: Server, conn: Connection) -> None:
    answer = video("v1", "completed", progress=100)
    answer.headers["x-usage-cost-usd"] = "0.4"
    server.on("GET", f"{API}/v1/videos/v1", answer)
    plain = adapter("anyfast_sora", conn)
    assert (await plain.status("v1")).spend_usd is None  # its spec reads no charge
    priced = attrs.evolve(spec("anyfast_sora"), spend=SpendRule(header="x-usage-cost-usd"))
    assert (await make_adapter(priced, conn).status("v1")).spend_usd == 0.4
