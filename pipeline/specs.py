"""The provider specs, as the runner and the emulator read them.

Everything vidpipe knows about a provider comes from its spec: the routes, the request
schemas and their constraints, the generated client package, and the `x-vidpipe`
extensions that say which API family it is, which unified storyboard names map to which
request fields, and how its status words map to vidpipe's own states. A spec references its
family's shared parts (`specs/shared/`) and is read bundled with them (`vidpipe.bundling`).

vidpipe ships the specs in `specs/`; a user adds a folder of specs of their own
(`SpecRegistry.with_dirs`), where a spec with the name of a shipped one replaces it.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import keyword
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from .bundling import bundle, read_yaml
from .errors import SpecError
from .openapi import SPEC_DIR
from .pricing import Price, PriceProblem, SpendRule, parse_spend, parse_table
from .schemacheck import SchemaCheck
from .states import TASK_STATES, TaskState

FAMILIES = ("videos", "generations")
#: The generator config that sits beside the specs; it is not a provider spec.
GENERATOR_CONFIG = "openapi-python-client.yaml"
#: The folder of the family's shared parts, beside the specs.
SHARED_DIR = "shared"
#: A value that starts with this marks a choice a draft spec leaves to its author.
TODO = "TODO"
FieldForm = Literal["value", "file", "url", "text-item", "image-item"]
UNIFIED_FIELDS = ("prompt", "duration", "size", "resolution", "ratio", "seed", "image", "remix")


@attrs.frozen
class FieldRule:
    """How one unified storyboard name lands in a create request."""

    unified: str
    field: str
    form: FieldForm = "value"


#: The lifecycle states a spec may give a model (`x-vidpipe.lifecycle`).
LIFECYCLE_STATES = ("deprecated", "shut-down")


@attrs.frozen
class ModelLifecycle:
    """What a spec says about a model's end of life: deprecated (it still works, until
    `date`) or shut down (on `date`), where that was said, and a note."""

    model: str
    status: str
    date: dt.date
    source: str
    note: str | None = None

    def warning(self, today: dt.date) -> str:
        """One sentence: what happened (or will) to the model, the note and the source."""
        if self.status == "shut-down":
            verb = "was shut down on" if self.date <= today else "shuts down on"
        else:
            verb = "was deprecated on" if self.date <= today else "is deprecated from"
        note = f": {self.note}" if self.note else ""
        return f"model {self.model} {verb} {self.date.isoformat()}{note} (source: {self.source})"


@attrs.frozen
class Operation:
    """One operation of a spec: its HTTP method, path template and definition."""

    operation_id: str
    method: str
    path: str
    definition: Mapping[str, Any] = attrs.field(repr=False)


@attrs.frozen(eq=False)
class Spec:
    """One provider spec with its vidpipe extensions read and checked."""

    name: str
    path: Path
    #: Over the spec file and every shared file it references: a client generated from
    #: another version of any of them is stale.
    sha256: str
    doc: Mapping[str, Any] = attrs.field(repr=False)
    #: The API (or group of specs) it serves: the spec's name unless `x-vidpipe.api` says.
    api: str
    family: str
    document: str
    operations: Mapping[str, str]
    create_content_type: str
    upload_content_type: str | None
    remix_via: str | None
    fields: Mapping[str, FieldRule]
    #: The sha256 of the provider document as last checked (`x-vidpipe.document-sha256`).
    document_sha256: str | None = None
    #: The shared files the spec references.
    sources: tuple[Path, ...] = ()
    #: (kind, name) of each component that came from a shared file -> that file.
    origins: Mapping[tuple[str, str], Path] = attrs.field(factory=dict, repr=False)
    #: What each model costs (`x-vidpipe.prices`); a model not named has no known price.
    prices: Mapping[str, Price] = attrs.field(factory=dict, repr=False)
    #: Where its task answers report what a task cost (`x-vidpipe.spend`), if they do.
    spend: SpendRule | None = None
    #: Models this spec marks deprecated or shut down (`x-vidpipe.lifecycle`), by id.
    lifecycle: Mapping[str, ModelLifecycle] = attrs.field(factory=dict, repr=False)

    @property
    def package(self) -> str:
        """The import path of the generated client package of a shipped spec."""
        return f"{__package__}.generated.{self.name}"

    @property
    def builtin(self) -> bool:
        """True for a spec shipped with vidpipe (its client is in `vidpipe.generated`)."""
        return self.path.parent.resolve() == SPEC_DIR.resolve()

    def status_file(self) -> Path:
        """The file that holds the spec's status mapping: the spec, unless every status
        schema it uses comes from one shared file."""
        schemas = self.doc.get("components", {}).get("schemas", {})
        files = {
            self.origins.get(("schemas", name), self.path)
            for name, schema in schemas.items()
            if isinstance(schema, dict) and "x-vidpipe-status" in schema
        }
        return files.pop() if len(files) == 1 else self.path

    def operation(self, role: str) -> Operation:
        """The operation that plays `role` (create, status, content, remix)."""
        op_id = self.operations.get(role)
        if op_id is None:
            raise SpecError(f"has no {role} operation", spec=self.name)
        for path, item in self.doc["paths"].items():
            for method, definition in item.items():
                if isinstance(definition, dict) and definition.get("operationId") == op_id:
                    return Operation(op_id, method.upper(), path, definition)
        raise SpecError(f"operationId {op_id!r} not found", spec=self.name)

    def has(self, role: str) -> bool:
        return role in self.operations

    def resolve(self, node: Any) -> Any:
        """A deep copy of `node` with every local `$ref` replaced by its target."""
        return resolve_refs(self.doc, node)

    @functools.cached_property
    def _create_schemas(self) -> Mapping[str, dict[str, Any]]:
        """The create call's body schema for each content type it takes, resolved once."""
        body = self.operation("create").definition.get("requestBody", {})
        return {
            ctype: self.resolve(media["schema"])
            for ctype, media in body.get("content", {}).items()
            if isinstance(media, dict) and "schema" in media
        }

    def create_schema(self, content_type: str | None = None) -> dict[str, Any]:
        """The resolved JSON schema of the create body for `content_type`.

        Resolved once per spec and shared between callers: treat it as read-only.
        """
        ctype = content_type or self.create_content_type
        schema = self._create_schemas.get(ctype)
        if schema is None:
            raise SpecError(f"create call takes no {ctype} body", spec=self.name)
        return schema

    def create_validator(self, content_type: str | None = None) -> Any:
        """A JSON Schema validator of the create body for `content_type`, made once."""
        ctype = content_type or self.create_content_type
        found = self._create_validators.get(ctype)
        if found is None:
            found = SchemaCheck(self.create_schema(ctype))
            self._create_validators[ctype] = found
        return found

    @functools.cached_property
    def _create_validators(self) -> dict[str, Any]:
        return {}

    def field_schema(self, field: str, content_type: str | None = None) -> dict[str, Any]:
        """The resolved schema of one create field (empty if the field is unknown)."""
        props: dict[str, Any] = self.create_schema(content_type).get("properties", {})
        return dict(props.get(field, {}))

    @functools.cached_property
    def _models(self) -> tuple[str, ...] | None:
        enum = self.field_schema("model").get("enum")
        return tuple(enum) if enum else None

    def models(self) -> tuple[str, ...] | None:
        """The model ids the create call accepts, or None when any string goes."""
        return self._models

    @functools.cached_property
    def status_map(self) -> Mapping[str, TaskState]:
        """Every status word the spec declares, mapped to a vidpipe state."""
        merged: dict[str, TaskState] = {}
        for name, schema in self.doc.get("components", {}).get("schemas", {}).items():
            mapping = schema.get("x-vidpipe-status") if isinstance(schema, dict) else None
            if not mapping:
                continue
            for word, state in mapping.items():
                if state not in TASK_STATES:
                    raise SpecError(
                        f"x-vidpipe-status of {name} maps {word!r} to unknown state {state!r}",
                        spec=str(self.path),
                    )
                merged.setdefault(str(word), state)
        return merged

    def normalise_status(self, word: str | None) -> TaskState | None:
        """The vidpipe state for a provider status word, or None if the spec does not know it."""
        if word is None:
            return None
        return self.status_map.get(word)


def json_type(value: object) -> str:
    """The JSON type of a Python value read from JSON or YAML."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def schema_types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a (resolved) schema admits, looking through anyOf, oneOf and allOf.

    A schema that names no type but lists `enum` or `const` values admits their types.
    """
    found: set[str] = set()
    kind = schema.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(k for k in kind if isinstance(k, str))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, ()) or ():
            if isinstance(sub, Mapping):
                found |= schema_types(sub)
    if not found:
        values = schema.get("enum")
        if "const" in schema:
            values = [schema["const"]]
        if isinstance(values, list):
            found.update(json_type(v) for v in values)
    return found


def object_properties(
    schema: Mapping[str, Any], source: str | None = None
) -> tuple[dict[str, Any], set[str]]:
    """The properties and required names of a resolved object schema, with those of its
    allOf parts merged in (the schema's own win). Each property that names no `x-source`
    gets the one of the nearest schema around it that does (`source` from outside)."""
    source = schema.get("x-source", source)
    props: dict[str, Any] = {}
    required: set[str] = set(schema.get("required") or ())
    for part in schema.get("allOf") or ():
        if isinstance(part, Mapping):
            more, needed = object_properties(part, source)
            props.update(more)
            required |= needed
    for name, prop in (schema.get("properties") or {}).items():
        marked = isinstance(prop, Mapping) and source is not None and "x-source" not in prop
        props[name] = {**prop, "x-source": source} if marked else prop
    return props, required


def spec_files(spec_dir: Path) -> list[Path]:
    """The provider specs in `spec_dir`, sorted, without the generator config."""
    return sorted(p for p in spec_dir.glob("*.yaml") if p.name != GENERATOR_CONFIG)


def resolve_refs(doc: Mapping[str, Any], node: Any) -> Any:
    """A deep copy of `node` (from `doc`) with every local `$ref` replaced by its target."""
    return _resolve(doc, node, ())


def _resolve(doc: Mapping[str, Any], node: Any, seen: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                raise SpecError(f"only local $ref is supported, got {ref!r}")
            if ref in seen:
                return {}  # recursive schema: stop here
            target: Any = doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            merged = {k: v for k, v in node.items() if k != "$ref"}
            resolved = _resolve(doc, target, (*seen, ref))
            return {**resolved, **merged} if isinstance(resolved, dict) else resolved
        return {k: _resolve(doc, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(doc, v, seen) for v in node]
    return copy.deepcopy(node)


def _field_rules(name: str, raw: Mapping[str, Any]) -> dict[str, FieldRule]:
    rules = {}
    for unified, target in raw.items():
        if unified not in UNIFIED_FIELDS:
            raise SpecError(f"x-vidpipe.fields names unknown unified field {unified!r}", spec=name)
        if isinstance(target, str):
            rules[unified] = FieldRule(unified, target)
        elif isinstance(target, dict) and "field" in target:
            rules[unified] = FieldRule(unified, target["field"], target.get("as", "value"))
        else:
            raise SpecError(
                f"x-vidpipe.fields.{unified} must be a name or {{field, as}}", spec=name
            )
    return rules


def _lifecycle(spec: str, raw: Any) -> dict[str, ModelLifecycle]:
    """`x-vidpipe.lifecycle`: {model: {status, date, source, note?}}, each checked."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError("x-vidpipe.lifecycle must map model ids to entries", spec=spec)
    found = {}
    for model, entry in raw.items():
        where = f"x-vidpipe.lifecycle.{model}"
        if not isinstance(entry, Mapping) or not {"status", "date", "source"} <= entry.keys():
            raise SpecError(f"{where} needs status, date and source", spec=spec)
        extra = set(entry) - {"status", "date", "source", "note"}
        if extra:
            raise SpecError(f"{where} has unknown keys: {', '.join(sorted(extra))}", spec=spec)
        if entry["status"] not in LIFECYCLE_STATES:
            raise SpecError(
                f"{where}.status must be one of {', '.join(LIFECYCLE_STATES)}", spec=spec
            )
        date = entry["date"]
        try:
            day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
        except ValueError:
            raise SpecError(f"{where}.date must be a date like 2026-09-24", spec=spec) from None
        if not isinstance(entry["source"], str) or not entry["source"].strip():
            raise SpecError(f"{where}.source must say where this was announced", spec=spec)
        note = entry.get("note")
        found[str(model)] = ModelLifecycle(
            str(model),
            str(entry["status"]),
            day,
            entry["source"],
            None if note is None else str(note),
        )
    return found


def _todos(node: Any, where: str) -> list[str]:
    """Where `node` still holds a draft's TODO value."""
    if isinstance(node, str):
        return [where] if node.startswith(TODO) else []
    if isinstance(node, Mapping):
        return [t for k, v in node.items() for t in _todos(v, f"{where}.{k}")]
    if isinstance(node, list):
        return [t for i, v in enumerate(node) for t in _todos(v, f"{where}[{i}]")]
    return []


def _draft_todos(doc: Mapping[str, Any]) -> list[str]:
    found = _todos(doc.get("x-vidpipe"), "x-vidpipe")
    for name, schema in (doc.get("components", {}).get("schemas") or {}).items():
        if isinstance(schema, Mapping) and "x-vidpipe-status" in schema:
            found += _todos(schema["x-vidpipe-status"], f"{name}.x-vidpipe-status")
    return found


def load_spec(path: Path, search: Iterable[Path] = (SPEC_DIR,)) -> Spec:
    """Load and check one spec file, bundled with the shared parts it references (looked
    for beside it, then in each folder of `search`: by default vidpipe's own specs)."""
    raw, loaded = read_yaml(path)
    name = path.stem
    if not isinstance(loaded, dict):
        raise SpecError("is not a YAML mapping", spec=str(path))
    bundled = bundle(path, loaded, raw, tuple(search))
    doc = bundled.doc
    ext = doc.get("x-vidpipe")
    if not isinstance(ext, dict):
        raise SpecError("has no x-vidpipe extension", spec=str(path))
    todos = _draft_todos(doc)
    if todos:
        raise SpecError(
            f"is a draft: replace the TODO at {', '.join(todos)} (see {path})", spec=str(path)
        )
    missing = [k for k in ("family", "operations", "create-content-type") if k not in ext]
    if missing:
        raise SpecError(f"x-vidpipe lacks {', '.join(missing)}", spec=str(path))
    if ext["family"] not in FAMILIES:
        raise SpecError(f"x-vidpipe.family must be one of {FAMILIES}", spec=str(path))
    for role in ("create", "status"):
        if role not in ext["operations"]:
            raise SpecError(f"x-vidpipe.operations lacks {role}", spec=str(path))
    try:
        prices = parse_table(ext.get("prices"), f"spec {name}")
        spend = parse_spend(ext.get("spend"))
    except PriceProblem as exc:
        where = ".".join(str(p) for p in ("x-vidpipe.prices", *exc.path))
        raise SpecError(f"{where}: {exc.message}", spec=str(path)) from None
    except ValueError as exc:
        raise SpecError(str(exc), spec=str(path)) from None
    spec = Spec(
        name=name,
        path=path,
        sha256=bundled.sha256,
        doc=doc,
        api=str(ext.get("api") or name),
        family=str(ext["family"]),
        document=str(ext.get("document", "")),
        operations=dict(ext["operations"]),
        create_content_type=str(ext["create-content-type"]),
        upload_content_type=ext.get("upload-content-type"),
        remix_via=ext.get("remix-via"),
        fields=_field_rules(str(path), ext.get("fields", {})),
        document_sha256=ext.get("document-sha256"),
        sources=bundled.sources,
        origins=bundled.origins,
        prices=prices,
        spend=spend,
        lifecycle=_lifecycle(str(path), ext.get("lifecycle")),
    )
    for role in spec.operations:
        spec.operation(role)  # every named operation exists
    if not spec.status_map:
        raise SpecError("declares no x-vidpipe-status mapping", spec=str(path))
    return spec


def user_spec_files(folder: Path) -> list[Path]:
    """The specs in a user's folder: its YAML files that are OpenAPI documents (the folder
    may hold other YAML, a storyboard say). SpecError if it is not a folder."""
    if not folder.is_dir():
        raise SpecError("is not a folder of specs", spec=str(folder))
    found = [p for p in spec_files(folder) if _is_openapi(p)]
    for path in found:
        if not path.stem.isidentifier() or keyword.iskeyword(path.stem):
            raise SpecError(
                "a spec's file name must be a Python identifier (it names its client)",
                spec=str(path),
            )
    return found


def _is_openapi(path: Path) -> bool:
    try:
        doc = read_yaml(path)[1]
    except SpecError:
        return True  # load_spec reports it
    return isinstance(doc, dict) and "openapi" in doc


@attrs.frozen
class SpecRegistry:
    """All the specs in a folder (and the user's folders added to it), looked up by name
    or by (api, model). An API is a group of specs (`x-vidpipe.api`) or one spec's name."""

    specs: Mapping[str, Spec]
    #: The user's folders of specs added to the shipped ones, in order.
    dirs: tuple[Path, ...] = ()

    @classmethod
    def load(cls, spec_dir: Path = SPEC_DIR) -> SpecRegistry:
        return cls({p.stem: load_spec(p) for p in spec_files(spec_dir)})

    def with_dirs(self, dirs: Iterable[Path]) -> SpecRegistry:
        """This registry with the specs of each folder in `dirs` added; a spec with the name
        of one already here replaces it. Folders already added are not read again."""
        new = [d.resolve() for d in dirs]
        new = [d for i, d in enumerate(new) if d not in self.dirs and d not in new[:i]]
        if not new:
            return self
        specs = dict(self.specs)
        for folder in new:
            for path in user_spec_files(folder):
                specs[path.stem] = load_spec(path)
        return SpecRegistry(specs, (*self.dirs, *new))

    def __iter__(self) -> Iterator[Spec]:
        return iter(self.specs.values())

    def __getitem__(self, name: str) -> Spec:
        return self.specs[name]

    def apis(self) -> tuple[str, ...]:
        """Every name `api:` may take: the groups and the specs."""
        return tuple(sorted({s.api for s in self} | set(self.specs)))

    def for_api(self, api: str) -> list[Spec]:
        """The specs of group `api`, else the spec named `api` (else none)."""
        group = [s for s in self if s.api == api]
        if group:
            return group
        return [self.specs[api]] if api in self.specs else []

    def models(self, api: str) -> list[str]:
        """Every model id an API accepts by name (APIs taking any id add none)."""
        return sorted({m for s in self.for_api(api) for m in (s.models() or ())})

    def find(self, api: str, model: str) -> Spec | None:
        """The spec that serves `model` on `api`: an exact enum match wins over any-model."""
        candidates = self.for_api(api)
        exact = [s for s in candidates if model in (s.models() or ())]
        if exact:
            return exact[0]
        open_ = [s for s in candidates if s.models() is None]
        return open_[0] if open_ else None


@functools.cache
def default_registry() -> SpecRegistry:
    """The registry of the specs shipped with vidpipe (loaded once)."""
    return SpecRegistry.load(SPEC_DIR)
