"""One self-contained document from a spec and the shared parts it references.

A spec may hold only what is its own and reference the rest of its API family from another
file, for example ``$ref: "shared/videos.yaml#/components/schemas/VideoStatus"``. A file
named in a reference is looked for beside the file that names it, then among vidpipe's own
specs (so a user's spec can reference the shared parts vidpipe ships). Bundling:

- copies a referenced component (``FILE#/components/<kind>/<Name>``) into the spec under the
  same name and points the reference there; references inside that file that name its own
  components (``#/components/...``) are followed the same way;
- keeps a component the spec defines itself in place of a shared one of the same name: that
  is how a provider overrides one shared part (its own status words, say) while the shared
  operations that name it go on working. A spec component that is nothing but a reference to
  a shared one of the same name imports it under that name;
- refuses two different shared components of one name;
- replaces a reference to anything else (a shared path item, ``components/pathItems/X``)
  with a copy of what it names.

The result references only itself, which is what openapi-python-client, the runner and the
emulator read. `Bundle.sha256` covers the spec and every file it used.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from .errors import SpecError

__all__ = ["Bundle", "bundle", "read_yaml"]

#: libyaml's parser where PyYAML was built with it (ten times the pure-Python one's speed);
#: both build the same objects.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Component kinds copied in by name; any other reference target is copied in place.
_NAMED_KINDS = frozenset(
    {
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
    }
)


@attrs.frozen
class Bundle:
    """A bundled spec document, the files it was made from and their combined sha256."""

    doc: dict[str, Any]
    sources: tuple[Path, ...]  # the shared files used, in the order first referenced
    sha256: str
    #: (kind, name) of every component copied in from a shared file -> that file.
    origins: Mapping[tuple[str, str], Path]


def read_yaml(path: Path) -> tuple[bytes, Any]:
    """The bytes of a YAML file and what it holds (SpecError naming the file and line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read it: {exc.strerror}", spec=str(path)) from exc
    try:
        return raw, yaml.load(raw, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"not valid YAML: {problem}", spec=where) from exc


def _pointer(doc: Any, pointer: str, where: str) -> Any:
    node = doc
    for part in pointer.lstrip("/").split("/") if pointer.strip("/") else ():
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or key not in node:
            raise SpecError(f"$ref {where!r} names nothing")
        node = node[key]
    return node


def _self_import(value: Any, kind: str, name: str) -> str | None:
    """The file of a spec component that only references a shared one of its own name."""
    if not isinstance(value, Mapping) or set(value) != {"$ref"}:
        return None
    ref = value["$ref"]
    if not isinstance(ref, str) or ref.startswith("#"):
        return None
    file, _, pointer = ref.partition("#")
    return file if pointer == f"/components/{kind}/{name}" else None


class _Bundler:
    def __init__(self, path: Path, doc: dict[str, Any], search: Sequence[Path]) -> None:
        self.path = path.resolve()
        self.doc = doc
        self.search = [p.resolve() for p in search]
        self.files: dict[Path, tuple[bytes, Any]] = {}
        self.imported: dict[tuple[str, str], Path] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self.own: set[tuple[str, str]] = set()
        self.slots: dict[tuple[str, str], Path] = {}

    def _locate(self, name: str, beside: Path) -> Path:
        for folder in (beside.parent, *self.search):
            candidate = (folder / name).resolve()
            if candidate.is_file():
                return candidate
        raise SpecError(f"$ref names {name!r}, which is neither beside {beside.name} nor shipped")

    def _load(self, file: Path) -> Any:
        if file not in self.files:
            raw, doc = read_yaml(file)
            self.files[file] = (raw, doc)
        return self.files[file][1]

    def run(self) -> Bundle:
        groups = self.doc.get("components") or {}
        order: dict[str, list[str]] = {}
        for kind, group in groups.items():
            if not isinstance(group, dict):
                continue
            order[kind] = list(group)
            for name, value in group.items():
                slot = _self_import(value, kind, name) if kind in _NAMED_KINDS else None
                if slot is not None:
                    self.slots[(kind, name)] = self._locate(slot, self.path)
                else:
                    self.own.add((kind, name))
        walked = self._walk({k: v for k, v in self.doc.items() if k != "components"}, None)
        own_components = {
            kind: (
                {
                    name: self._walk(value, None)
                    for name, value in group.items()
                    if (kind, name) in self.own
                }
                if isinstance(group, dict)
                else group
            )
            for kind, group in groups.items()
        }
        for (kind, name), file in self.slots.items():
            self._import(kind, name, file)
        components: dict[str, Any] = {}
        for kind in [*groups, *(k for k in self.components if k not in groups)]:
            mine = own_components.get(kind, {})
            if not isinstance(mine, dict):
                components[kind] = mine
                continue
            shared = self.components.get(kind, {})
            names = [*order.get(kind, []), *(n for n in shared if n not in order.get(kind, []))]
            components[kind] = {n: mine[n] if n in mine else shared[n] for n in names}
        if components:
            walked["components"] = components
        digest = hashlib.sha256(self.files.get(self.path, (b"", None))[0])
        for digest_of_shared in sorted(
            hashlib.sha256(v[0]).hexdigest() for k, v in self.files.items() if k != self.path
        ):
            digest.update(b"\0" + digest_of_shared.encode())
        sources = tuple(f for f in self.files if f != self.path)
        return Bundle(walked, sources, digest.hexdigest(), dict(self.imported))

    def _walk(self, node: Any, file: Path | None) -> Any:
        """`node` (from `file`, None for the spec) with its references bundled."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            rest = {k: self._walk(v, file) for k, v in node.items() if k != "$ref"}
            if not isinstance(ref, str):
                return rest
            target, _, pointer = ref.partition("#")
            if not target and file is None:
                return {"$ref": ref, **rest}
            source = self._locate(target, file or self.path) if target else file
            assert source is not None
            parts = pointer.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "components" and parts[1] in _NAMED_KINDS:
                kind, name = parts[1], parts[2].replace("~1", "/").replace("~0", "~")
                self._import(kind, name, source)
                return {"$ref": f"#/components/{kind}/{parts[2]}", **rest}
            found = _pointer(self._load(source), pointer, ref)
            inlined = self._walk(copy.deepcopy(found), source)
            return {**inlined, **rest} if isinstance(inlined, dict) else inlined
        if isinstance(node, list):
            return [self._walk(v, file) for v in node]
        return node

    def _import(self, kind: str, name: str, source: Path) -> None:
        """Copy component `name` of `source` in, unless the spec has its own."""
        key = (kind, name)
        if key in self.own:
            return
        earlier = self.imported.get(key)
        if earlier is not None:
            if earlier != source and self._raw(earlier, kind, name) != self._raw(
                source, kind, name
            ):
                raise SpecError(
                    f"components.{kind}.{name} comes from both {earlier.name} and {source.name}, "
                    "which differ: define it in the spec itself"
                )
            return
        self.imported[key] = source
        value = self._raw(source, kind, name)
        self.components.setdefault(kind, {})[name] = None  # taken: a recursive schema stops
        self.components[kind][name] = self._walk(copy.deepcopy(value), source)

    def _raw(self, source: Path, kind: str, name: str) -> Any:
        return _pointer(self._load(source), f"/components/{kind}/{name}", f"{source.name}#{name}")


def bundle(path: Path, doc: dict[str, Any], raw: bytes, search: Sequence[Path] = ()) -> Bundle:
    """Bundle the spec `doc` (read from `path`, whose bytes are `raw`); files it references
    are looked for beside the file naming them, then in each folder of `search`."""
    bundler = _Bundler(path, copy.deepcopy(doc), search)
    bundler.files[bundler.path] = (raw, doc)
    return bundler.run()
