"""Specs that offer a way to find a task after a lost create answer, for the soak and tests.

No shipped spec declares one yet. `with_list_route` adds to a `/v1/videos` spec what such a
spec declares: the `GET /v1/videos` list operation (OpenAI style, which the emulator
serves) as `x-vidpipe.operations.list`, and `x-vidpipe.reattach.match`, the listed field
that shows each field a create sends. `generated_clients` generates their clients for real
and makes them importable for the duration of a block.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import vidpipe.generated
from vidpipe.adapters import registry
from vidpipe.codegen import regenerate
from vidpipe.openapi import SPEC_DIR

__all__ = ["VIDEO_MATCH", "generated_clients", "with_list_route"]

#: Create fields of the /v1/videos family and the Video fields that show them.
VIDEO_MATCH: Mapping[str, str] = {
    "model": "model",
    "prompt": "prompt",
    "seconds": "seconds",
    "size": "size",
    "remix_video_id": "remixed_from_video_id",
}

_LIST_OPERATION = """\
    get:
      operationId: listVideos
      tags: [videos]
      summary: List video tasks, newest first
      x-source: reference
      parameters:
        - {name: limit, in: query, required: false, schema: {type: integer}}
        - {name: order, in: query, required: false, schema: {type: string, enum: [asc, desc]}}
        - {name: after, in: query, required: false, schema: {type: string}}
      responses:
        "200":
          description: A page of tasks
          content:
            application/json:
              schema:
                type: object
                properties:
                  object: {type: string}
                  data: {type: array, items: {$ref: "#/components/schemas/Video"}}
                  first_id: {type: [string, "null"]}
                  last_id: {type: [string, "null"]}
                  has_more: {type: boolean}
"""


def with_list_route(text: str, match: Mapping[str, str] = VIDEO_MATCH) -> str:
    """A `/v1/videos` spec's text with a list operation and `x-vidpipe.reattach.match`."""
    lines = "".join(f"      {field}: {shown}\n" for field, shown in match.items())
    edits = (
        ("    status: getVideo\n", "    status: getVideo\n    list: listVideos\n"),
        ("paths:\n", f"  reattach:\n    match:\n{lines}paths:\n"),
        ("  /v1/videos:\n    post:\n", f"  /v1/videos:\n{_LIST_OPERATION}    post:\n"),
    )
    for old, new in edits:
        if old not in text:
            raise ValueError(f"not a /v1/videos spec as expected: no {old.strip()!r}")
        text = text.replace(old, new, 1)
    return text


@contextlib.contextmanager
def generated_clients(specs: Iterable[Path]) -> Iterator[None]:
    """Generate the clients of `specs` (files named for packages no other spec uses) and make
    them the generated clients of those names within the block."""
    specs = list(specs)
    with tempfile.TemporaryDirectory(prefix="vidpipe-listed-") as tmp:
        folder = Path(tmp) / "specs"
        folder.mkdir()
        shutil.copy(SPEC_DIR / "openapi-python-client.yaml", folder)
        shutil.copytree(SPEC_DIR / "generator-templates", folder / "generator-templates")
        for spec in specs:
            shutil.copy(spec, folder / spec.name)
        out = Path(tmp) / "generated"
        regenerate(folder, out, Path(tmp) / "registry.py")
        names = [spec.stem for spec in specs]

        def loader(name: str) -> Any:
            return lambda: importlib.import_module(f"vidpipe.generated.{name}.index")

        vidpipe.generated.__path__.append(str(out))
        saved = registry.INDEXES
        registry.INDEXES = {**saved, **{name: loader(name) for name in names}}
        packages = tuple(f"vidpipe.generated.{name}" for name in names)
        try:
            yield
        finally:
            registry.INDEXES = saved
            vidpipe.generated.__path__.remove(str(out))
            for module in list(sys.modules):
                if module in packages or module.startswith(tuple(f"{p}." for p in packages)):
                    del sys.modules[module]
