"""Limits and checks on input read through the library (the CLI cases are in the corpus):
sizes, `--var` names, the spec's image rules and prompt length, API answers read with a cap,
keys, output paths and the wording of a final cut that could not be made."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import httpx
import pytest

from vidpipe.api import run_async
from vidpipe.errors import InputError, SpecError
from vidpipe.loading import loads, yamllines
from vidpipe.model import Storyboard
from vidpipe.openapi import SPEC_DIR
from vidpipe.requests import build_requests, image_rules
from vidpipe.runner import RunOptions
from vidpipe.specs import SpecRegistry, default_registry, load_spec
from vidpipe.transport import AnswerTooLarge, Connection

from .images import image_bytes
from .test_adapters import API, KEY, MP4, Server, adapter, server, snap  # noqa: F401

BOARD = """\
name: limits
providers: {anyfast: {api: anyfast}}
defaults: {model: sora-2, size: 1280x720}
vars: {hero: a cat}
shots:
"""


def problems(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [p.message for p in exc.value.problems]


def test_text_over_the_size_limit_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamllines, "MAX_STORYBOARD_BYTES", 4096)
    text = BOARD + "  - {id: a, prompt: 'é" + "x" * 2100 + "'}\n"  # 2 bytes per é
    loads(text, env={})
    with pytest.raises(InputError) as info:
        loads(text.replace("x" * 2100, "é" * 2100), env={})
    assert problems(info) == [
        "the storyboard is 4.2 KiB, over the limit of 4.0 KiB; split it, or keep images in files"
    ]


def test_too_many_values_says_whether_aliases_made_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamllines, "MAX_VALUES", 50)
    plain = BOARD + "".join(f"  - {{id: s{i}, prompt: x}}\n" for i in range(20))
    with pytest.raises(InputError) as info:
        loads(plain, env={})
    assert problems(info) == ["the document holds over 50 values"]
    aliased = "x: &x [a, b, c, d, e, f, g, h]\ny: [*x, *x, *x, *x, *x, *x, *x, *x]\n"
    with pytest.raises(InputError) as info:
        loads(aliased, env={})
    assert problems(info) == ["the document expands to over 50 values via aliases"]


def write_templates(folder: Path) -> None:
    (folder / "templates").mkdir()
    (folder / "templates" / "outer.j2").write_text("{{ hero }} {% include 'inner.j2' %}")
    (folder / "templates" / "inner.j2").write_text("in {{ place }}")
    (folder / "templates" / "dynamic.j2").write_text("{% include which %}")


def test_a_var_only_an_included_template_reads_is_used(tmp_path: Path) -> None:
    write_templates(tmp_path)
    text = BOARD + "  - {id: a, template: outer.j2, vars: {place: home}}\n"
    board = loads(text, base_dir=tmp_path, env={}, vars={"place": "the sea", "hero": "a dog"})
    assert board.shot("a").prompt == "a dog in the sea"
    with pytest.raises(InputError) as info:
        loads(text, base_dir=tmp_path, env={}, vars={"plaec": "x"})
    assert problems(info) == [
        "--var 'plaec': no prompt, template or vars use this name (did you mean 'place'?)"
    ]


def test_a_shot_var_name_may_be_overridden(tmp_path: Path) -> None:
    text = BOARD + "  - {id: a, prompt: '{{ hero }}', vars: {mood: calm}}\n"
    board = loads(text, env={}, vars={"mood": "tense"})
    assert board.shot("a").vars["mood"] == "tense"


def test_a_template_that_names_another_by_a_variable_leaves_vars_unchecked(
    tmp_path: Path,
) -> None:
    write_templates(tmp_path)
    text = BOARD + "  - {id: a, template: dynamic.j2, vars: {which: inner.j2, place: x}}\n"
    board = loads(text, base_dir=tmp_path, env={}, vars={"anything": 1})
    assert board.shot("a").prompt == "in x"


def sora_registry(tmp_path: Path, old: str, new: str) -> SpecRegistry:
    """The shipped specs, anyfast_sora edited (`old` replaced by `new`)."""
    text = (SPEC_DIR / "anyfast_sora.yaml").read_text()
    assert text.count(old) == 1
    path = tmp_path / "anyfast_sora.yaml"
    path.write_text(text.replace(old, new))
    specs = dict(default_registry().specs)
    specs["anyfast_sora"] = load_spec(path)
    return SpecRegistry(specs)


def board_with_image(tmp_path: Path, width: int, height: int) -> Storyboard:
    (tmp_path / "ref.png").write_bytes(image_bytes("PNG", width, height))
    return loads(BOARD + "  - {id: a, prompt: hi, image: ref.png}\n", base_dir=tmp_path, env={})


def test_image_limits_declared_in_a_spec_are_checked(tmp_path: Path) -> None:
    registry = sora_registry(
        tmp_path,
        "    media-types: [image/jpeg, image/png, image/webp]\n",
        "    media-types: [image/jpeg, image/png, image/webp]\n    max-width: 100\n"
        "    max-bytes: 64\n",
    )
    assert build_requests(board_with_image(tmp_path, 90, 9), default_registry())
    with pytest.raises(InputError) as info:
        build_requests(board_with_image(tmp_path, 120, 9), registry)
    found = problems(info)
    assert len(found) == 2
    assert re.fullmatch(
        r"shot 'a': image ref\.png \(PNG 120x9\): it is \d+ bytes; it takes at most 64 bytes "
        r"\(sora-2 on anyfast \(anyfast_sora\)\)",
        found[0],
    )
    assert found[1] == (
        "shot 'a': image ref.png (PNG 120x9): it is 120 px wide; it takes at most 100 "
        "(sora-2 on anyfast (anyfast_sora))"
    )


def test_a_spec_with_image_rules_it_cannot_state_is_a_spec_error(tmp_path: Path) -> None:
    registry = sora_registry(
        tmp_path, "    media-types: [", "    max-pixels: 5\n    media-types: ["
    )
    with pytest.raises(SpecError, match=r"x-vidpipe\.image has unknown keys: max-pixels"):
        image_rules(registry["anyfast_sora"])


def test_every_shipped_spec_states_image_rules_vidpipe_understands() -> None:
    for spec in default_registry():
        assert image_rules(spec).media_types


@pytest.mark.shared
def test_soras_image_types_are_the_documents(shared_dir: Path) -> None:
    document = (shared_dir / "seeds" / "000_2a92ba406153e175.txt").read_text()
    stated = re.search(r"Accepted MIME types: ([^.]+)\.", document)
    assert stated is not None
    types = tuple(t.strip() for t in stated.group(1).split(","))
    assert image_rules(default_registry()["anyfast_sora"]).media_types == types


def test_a_prompt_limit_in_the_spec_wins_over_the_default(tmp_path: Path) -> None:
    registry = sora_registry(
        tmp_path,
        "          description: Natural language description of the video.\n",
        "          description: Natural language description of the video.\n"
        "          maxLength: 20\n",
    )
    board = loads(BOARD + "  - {id: a, prompt: '{{ hero }} walks along the shore'}\n", env={})
    with pytest.raises(InputError) as info:
        build_requests(board, registry)
    assert problems(info) == [
        "shot 'a': the prompt is 27 characters; sora-2 on anyfast (anyfast_sora) takes at most 20"
    ]


async def test_a_status_answer_over_the_cap_is_not_read_whole(server: Server) -> None:  # noqa: F811
    body = json.dumps({"id": "v1", "status": "queued", "pad": "x" * (5 << 20)}).encode()
    reads: list[int] = []

    async def stream() -> httpx.AsyncIterator[bytes]:  # type: ignore[name-defined]
        for start in range(0, len(body), 65536):
            reads.append(start)
            yield body[start : start + 65536]

    server.on("GET", f"{API}/v1/videos/v1", lambda request: httpx.Response(200, content=stream()))
    async with Connection(API, KEY, transport=httpx.MockTransport(server)) as conn:
        with pytest.raises(
            AnswerTooLarge,
            match=r"GET /v1/videos/v1: the answer is 4\.\d MiB or more, over the limit of 4\.0 MiB",
        ):
            await adapter("newapi", conn).status("v1")
    attempts = len(server.sent("GET"))  # the poll scope tries again, each time up to the cap
    assert attempts > 1 and len(reads) <= attempts * ((4 << 20) // 65536 + 1)
    assert len(body) // 65536 > (4 << 20) // 65536 + 1


async def test_an_announced_size_over_the_cap_is_refused_before_reading(
    server: Server,  # noqa: F811
) -> None:
    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": str(300 << 20)}, content=b"{}")

    server.on("GET", f"{API}/v1/videos/v1", huge)
    async with Connection(API, KEY, transport=httpx.MockTransport(server)) as conn:
        with pytest.raises(AnswerTooLarge, match=r"the answer is 300\.0 MiB or more"):
            await adapter("newapi", conn).status("v1")


async def test_a_video_larger_than_the_cap_still_downloads(
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    video = MP4 + bytes(5 << 20)
    server.on("GET", f"{API}/v1/videos/v1/content", httpx.Response(200, content=video))
    async with Connection(API, KEY, transport=httpx.MockTransport(server)) as conn:
        got = await adapter("newapi", conn).download(snap("v1"), tmp_path / "v.mp4")
    assert got.size == len(video)


def test_a_key_a_header_cannot_carry_is_refused_without_showing_it() -> None:
    for key in ("sk-clé", "sk-a b", "sk-x\r\nHost: evil"):
        with pytest.raises(InputError) as info:
            Connection(API, key)
        assert key not in str(info.value) and "visible ASCII" in str(info.value)


async def test_a_run_refuses_an_unusable_out_folder_before_anything(tmp_path: Path) -> None:
    board = loads(BOARD + "  - {id: a, prompt: hi}\n", base_dir=tmp_path, env={})
    blocker = tmp_path / "out"
    blocker.write_text("a file")
    with pytest.raises(InputError) as info:
        await run_async(board, RunOptions(out_dir=blocker))
    assert problems(info) == [f"--out {blocker}: {blocker} is not a folder"]
    assert not (tmp_path / ".vidpipe").exists()


def test_the_limits_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for words in ("2 MiB", "10,000 shots", "10,000 characters", "4 MiB"):
        assert words in textwrap.dedent(readme), words
