"""Load a storyboard YAML file into the frozen model, reporting every problem at once.

Two layers:

* `parse` reads the YAML (safe constructors only) into a lenient `LoadedDocument`: plain
  Python data plus the 1-based line of every mapping key and sequence item.
* `validate` checks that document and builds a `Storyboard`: unknown keys (with a "did
  you mean"), wrong types, ids, providers, remix targets and cycles, files, templates.
  Every problem carries the file and line; all of them are raised together as one
  InputError.

`load` does both. Values under `providers:` may use `${VAR}` and `${VAR:-default}`
(`$${` is a literal `${`). API keys never appear in a message or repr.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .dag import cycle_problems, find_cycles
from .errors import InputError, Problem
from .model import (
    API_FAMILIES,
    EMBEDDED,
    FinalCut,
    FrozenDict,
    ProviderConfig,
    Shot,
    Storyboard,
    freeze,
)
from .ratelimit import parse_rate
from .templating import build_context, load_template, make_environment, render_prompt

__all__ = [
    "ID_PATTERN",
    "LoadedDocument",
    "expand_env",
    "load",
    "parse",
    "storyboard_schema",
    "validate",
]

#: Shot ids, provider names and storyboard names.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SIZE = re.compile(r"^[1-9][0-9]*x[1-9][0-9]*$")
_ENV_REF = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*(;base64)?,", re.I)

#: A storyboard with more values than this (after expanding aliases) is refused.
MAX_VALUES = 1_000_000

TOP_KEYS = ("version", "name", "seed", "providers", "defaults", "vars", "shots", "final")
PROVIDER_KEYS = ("api", "base_url", "api_key", "concurrency", "rate")
SHOT_KEYS = (
    "id",
    "prompt",
    "template",
    "vars",
    "provider",
    "model",
    "seconds",
    "duration",
    "size",
    "resolution",
    "ratio",
    "seed",
    "image",
    "remix",
    "params",
)
DEFAULT_KEYS = tuple(k for k in SHOT_KEYS if k not in ("id", "remix"))
FINAL_KEYS = ("concat",)
_RESERVED_VARS = ("shot", "storyboard")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"

YamlPath = tuple[str | int, ...]


# --- the lenient layer --------------------------------------------------------------


@attrs.frozen
class LoadedDocument:
    """Parsed YAML plus where each key and item was written (1-based lines).

    `key_lines` holds the line of each mapping key and each sequence item,
    `value_lines` where each value starts. `plain` holds the literal text of plain
    (unquoted) scalars, so `ratio: 16:9` can be read as text rather than YAML's base-60
    integer. `problems` are those found while parsing, such as duplicate keys.
    """

    path: Path
    source: str
    data: Any = attrs.field(repr=False)
    key_lines: Mapping[YamlPath, int] = attrs.field(repr=False)
    value_lines: Mapping[YamlPath, int] = attrs.field(repr=False)
    plain: Mapping[YamlPath, str] = attrs.field(repr=False)
    block: frozenset[YamlPath] = attrs.field(repr=False)
    problems: tuple[Problem, ...] = ()

    def line(self, path: YamlPath) -> int:
        """The line of the key or item at `path`, or of its nearest located parent."""
        while path:
            if path in self.key_lines:
                return self.key_lines[path]
            path = path[:-1]
        return self.value_lines.get((), 1)

    def value_line(self, path: YamlPath) -> int:
        """The line where the value at `path` starts (falls back like `line`)."""
        return self.value_lines.get(path) or self.line(path)


class _Builder:
    """Turns a composed YAML node tree into plain data, recording lines by path."""

    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.key_lines: dict[YamlPath, int] = {}
        self.value_lines: dict[YamlPath, int] = {}
        self.plain: dict[YamlPath, str] = {}
        self.block: set[YamlPath] = set()
        self.problems: list[Problem] = []
        self._built: dict[int, Any] = {}
        self._active: set[int] = set()

    def problem(self, message: str, node: Node) -> None:
        self.problems.append(Problem(message, self.source, node.start_mark.line + 1))

    def expanded_size(self, node: Node, memo: dict[int, int], active: set[int]) -> int:
        """How many values the tree holds with every alias expanded (an alias bomb guard)."""
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active or isinstance(node, ScalarNode):
            return 1
        active.add(key)
        children = node.value if isinstance(node, SequenceNode) else [v for _, v in node.value]
        size = 1 + sum(self.expanded_size(child, memo, active) for child in children)
        active.discard(key)
        memo[key] = size
        return size

    def build(self, node: Node, path: YamlPath) -> Any:
        self.value_lines.setdefault(path, node.start_mark.line + 1)
        key = id(node)
        if key in self._active:
            self.problem("recursive YAML alias", node)
            return None
        if key in self._built:  # an alias: share the value, lines stay at the alias
            return self._built[key]
        self._active.add(key)
        try:
            value = self._build(node, path)
        finally:
            self._active.discard(key)
        self._built[key] = value
        return value

    def _build(self, node: Node, path: YamlPath) -> Any:
        if isinstance(node, ScalarNode):
            if node.style is None:
                self.plain[path] = node.value
            elif node.style in "|>":
                self.block.add(path)
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.constructor.ConstructorError as exc:
                self.problem(f"YAML: {exc.problem}", node)
                return None
        if node.tag not in (_SEQ_TAG, _MAP_TAG):
            self.problem(f"unsupported YAML tag {node.tag!r}", node)
            return None
        if isinstance(node, SequenceNode):
            items = []
            for index, child in enumerate(node.value):
                self.key_lines[(*path, index)] = child.start_mark.line + 1
                items.append(self.build(child, (*path, index)))
            return items
        assert isinstance(node, MappingNode)
        own = {id(k) for k, _ in node.value if k.tag != _MERGE_TAG}
        try:
            self.loader.flatten_mapping(node)
        except yaml.constructor.ConstructorError as exc:
            self.problem(f"YAML: {exc.problem}", node)
            return {}
        result: dict[str, Any] = {}
        own_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem("mapping keys must be plain strings", key_node)
                continue
            # Keys are taken as written: `on:` or `1080:` are the strings "on" and "1080".
            name = str(key_node.value)
            line = key_node.start_mark.line + 1
            if id(key_node) in own:
                if name in own_seen:
                    self.problem(
                        f"duplicate key {name!r} (first written at line {own_seen[name]})",
                        key_node,
                    )
                own_seen[name] = line
            sub = (*path, name)
            self.key_lines[sub] = line
            self.value_lines.pop(sub, None)  # a later duplicate wins, as in PyYAML
            result[name] = self.build(value_node, sub)
        return result


def _read_text(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem("storyboard file not found", source)) from None
    except IsADirectoryError:
        raise InputError(Problem("is a directory, not a storyboard file", source)) from None
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"not UTF-8 text ({exc.reason})", source)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read: {exc.strerror}", source)) from None


def parse(path: Path | str, *, text: str | None = None) -> LoadedDocument:
    """Read a storyboard's YAML into a LoadedDocument. Syntax errors raise InputError.

    `text`, if given, is used instead of reading the file (the path still names it).
    """
    source = str(path)
    absolute = Path(path).expanduser().resolve()
    if text is None:
        text = _read_text(absolute, source)
    loader = yaml.SafeLoader(text)
    builder = _Builder(loader, source)
    try:
        root = loader.get_single_node()
        if root is not None and builder.expanded_size(root, {}, set()) > MAX_VALUES:
            raise InputError(
                Problem(
                    f"the document expands to over {MAX_VALUES:,} values via aliases", source, 1
                )
            )
        data = builder.build(root, ()) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise InputError(
            Problem(f"YAML syntax error: {what}", source, mark.line + 1 if mark else None)
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"YAML error: {type(exc).__name__}", source, 1)) from None
    except RecursionError:
        raise InputError(Problem("the document is nested too deeply", source, 1)) from None
    finally:
        loader.dispose()
    return LoadedDocument(
        path=absolute,
        source=source,
        data=data,
        key_lines=builder.key_lines,
        value_lines=builder.value_lines,
        plain=builder.plain,
        block=frozenset(builder.block),
        problems=tuple(builder.problems),
    )


# --- environment interpolation ------------------------------------------------------


def expand_env(value: str, env: Mapping[str, str]) -> str:
    """Expand `${VAR}` and `${VAR:-default}` (default also when VAR is empty).

    `$${` is a literal `${`. Raises ValueError naming the variable if one is unset and
    has no default; the message never includes any value.
    """

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name is None:
            raise ValueError("malformed ${...} reference (expected ${NAME} or ${NAME:-default})")
        found = env.get(name)
        if default is not None:
            return found if found else default
        if found is None:
            raise ValueError(f"environment variable {name} is not set (use ${{{name}:-...}})")
        return found

    return _ENV_REF.sub(replace, value)


# --- the validating layer -----------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _suggest(name: str, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://", "data:"))


class _Validator:
    def __init__(
        self, doc: LoadedDocument, env: Mapping[str, str], overrides: Mapping[str, object]
    ) -> None:
        self.doc = doc
        self.env = env
        self.overrides = overrides
        self.file = doc.source
        self.base_dir = doc.path.parent
        self.problems: list[Problem] = list(doc.problems)

    # helpers

    def add(self, message: str, path: YamlPath, *, value: bool = False) -> None:
        line = self.doc.value_line(path) if value else self.doc.line(path)
        self.problems.append(Problem(message, self.file, line))

    def mapping(self, value: object, path: YamlPath, what: str) -> dict[str, Any] | None:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(f"{what} must be a mapping, not {_type_name(value)}", path, value=True)
            return None
        return value

    def check_keys(
        self, data: Mapping[str, Any], path: YamlPath, allowed: tuple[str, ...], what: str
    ) -> None:
        for key in data:
            if key not in allowed:
                self.add(f"unknown key {key!r} in {what}{_suggest(key, allowed)}", (*path, key))

    def text(self, value: object, path: YamlPath, what: str, *, secret: bool = False) -> str | None:
        """A string field; unquoted scalars such as 16:9 or 1.0 are taken as written."""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and path in self.doc.plain:
            return self.doc.plain[path]
        shown = "" if secret else f", not {_type_name(value)}"
        self.add(f"{what} must be a string{shown}", path, value=True)
        return None

    def slug(self, value: object, path: YamlPath, what: str) -> str | None:
        text = self.text(value, path, what)
        if text is not None and not ID_PATTERN.match(text):
            self.add(
                f"{what} {text!r} is not a slug (lowercase letters, digits, '-' and '_', "
                "starting with a letter or digit, at most 64 characters)",
                path,
                value=True,
            )
            return None
        return text

    def integer(self, value: object, path: YamlPath, what: str, minimum: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{what} must be an integer, not {_type_name(value)}", path, value=True)
            return None
        if value < minimum:
            self.add(f"{what} must be {minimum} or more, not {value}", path, value=True)
            return None
        return value

    def json_value(self, value: object, path: YamlPath, what: str) -> bool:
        """True if value is plain JSON data (what a provider or a template can use)."""
        if value is None or isinstance(value, str | bool | int):
            return True
        if isinstance(value, float):
            if math.isfinite(value):
                return True
            self.add(f"{what} must be a finite number", path, value=True)
            return False
        if isinstance(value, list):
            return all(
                [self.json_value(v, (*path, i), f"{what}[{i}]") for i, v in enumerate(value)]
            )
        if isinstance(value, dict):
            return all([self.json_value(v, (*path, k), f"{what}.{k}") for k, v in value.items()])
        self.add(
            f"{what} must be plain data (text, number, boolean, list or mapping), not "
            f"{_type_name(value)}; quote it",
            path,
            value=True,
        )
        return False

    def variables(self, value: object, path: YamlPath, what: str) -> dict[str, Any] | None:
        data = self.mapping(value, path, what)
        if data is None:
            return None
        ok = True
        for name, item in data.items():
            if not _VAR_NAME.match(name):
                self.add(f"variable name {name!r} in {what} is not an identifier", (*path, name))
                ok = False
            elif name in _RESERVED_VARS:
                self.add(f"variable name {name!r} in {what} is reserved", (*path, name))
                ok = False
            ok = self.json_value(item, (*path, name), f"{what}.{name}") and ok
        return data if ok else None

    # storyboard sections

    def run(self) -> Storyboard:
        data = self.doc.data
        if data is None:
            self.add("the storyboard is empty", ())
            raise InputError(self.problems)
        if not isinstance(data, dict):
            self.add(f"a storyboard must be a mapping, not {_type_name(data)}", (), value=True)
            raise InputError(self.problems)
        self.check_keys(data, (), TOP_KEYS, "the storyboard")

        version = 1
        if "version" in data:
            raw = data["version"]
            if isinstance(raw, bool) or raw != 1:
                self.add("unsupported version (only version: 1 exists)", ("version",), value=True)
        name = self.storyboard_name(data)
        master_seed = None
        if data.get("seed") is not None:
            master_seed = self.integer(data["seed"], ("seed",), "seed", 0)
        providers = self.providers(data.get("providers"))
        variables = self.variables(data.get("vars"), ("vars",), "vars") or {}
        variables = self.apply_overrides(variables)
        defaults = self.mapping(data.get("defaults"), ("defaults",), "defaults") or {}
        for key in defaults:
            if key in ("id", "remix"):
                self.add(f"{key!r} cannot have a default; set it on each shot", ("defaults", key))
        defaults = {k: v for k, v in defaults.items() if k not in ("id", "remix")}
        self.check_keys(defaults, ("defaults",), DEFAULT_KEYS, "defaults")
        resolved_defaults = self.fields(defaults, ("defaults",), "defaults")
        shots = self.shots(data, providers, variables, resolved_defaults, name, master_seed)
        final = self.final(data.get("final"), {s.id for s in shots})

        if self.problems:
            raise InputError(_sorted_unique(self.problems, self.file))
        return Storyboard(
            path=self.doc.path,
            base_dir=self.base_dir,
            source=self.file,
            name=name or "",
            version=version,
            seed=master_seed,
            providers=FrozenDict(providers),
            defaults=freeze({k: v for k, (v, _) in resolved_defaults.items()}),
            vars=freeze(variables),
            shots=tuple(shots),
            final=final,
        )

    def storyboard_name(self, data: Mapping[str, Any]) -> str | None:
        if "name" in data:
            return self.slug(data["name"], ("name",), "name")
        stem = re.sub(r"[^a-z0-9_-]+", "-", self.doc.path.stem.lower()).strip("-_")[:64]
        if not ID_PATTERN.match(stem):
            self.add("add a `name:` (a slug); it cannot be derived from the file name", ())
            return None
        return stem

    def apply_overrides(self, variables: dict[str, Any]) -> dict[str, Any]:
        merged = dict(variables)
        for name, value in self.overrides.items():
            if not _VAR_NAME.match(name) or name in _RESERVED_VARS:
                self.problems.append(
                    Problem(f"--var {name!r}: not a usable variable name", self.file)
                )
                continue
            merged[name] = value
        return merged

    def providers(self, value: object) -> dict[str, ProviderConfig]:
        data = self.mapping(value, ("providers",), "providers")
        result: dict[str, ProviderConfig] = {}
        for name, spec in (data or {}).items():
            path: YamlPath = ("providers", name)
            if not ID_PATTERN.match(name):
                self.add(f"provider name {name!r} is not a slug", path)
            config = self.mapping(spec, path, f"provider {name!r}")
            if config is None:
                continue
            self.check_keys(config, path, PROVIDER_KEYS, f"provider {name!r}")
            fields: dict[str, Any] = {}
            ok = True
            for key in PROVIDER_KEYS:
                if key not in config or config[key] is None:
                    continue
                raw = config[key]
                if isinstance(raw, str):
                    try:
                        raw = expand_env(raw, self.env)
                    except ValueError as exc:
                        self.add(f"provider {name!r} {key}: {exc}", (*path, key), value=True)
                        ok = False
                        continue
                fields[key] = raw
            api = fields.get("api", name if name in API_FAMILIES else None)
            if api is None:
                self.add(f"provider {name!r} needs `api:` (one of {', '.join(API_FAMILIES)})", path)
                ok = False
            elif api not in API_FAMILIES:
                # Provider values are never echoed: a misplaced key must not leak.
                self.add(
                    f"provider {name!r}: api must be one of {', '.join(API_FAMILIES)}"
                    + (_suggest(api, API_FAMILIES) if isinstance(api, str) else ""),
                    (*path, "api"),
                    value=True,
                )
                ok = False
            base_url = EMBEDDED
            if "base_url" in fields:
                url = self.text(fields["base_url"], (*path, "base_url"), "base_url", secret=True)
                if url is None:
                    ok = False
                elif url.strip() in ("", EMBEDDED):
                    base_url = EMBEDDED
                elif not url.lower().startswith(("http://", "https://")) or " " in url:
                    # The URL may carry credentials, so it is not repeated here.
                    self.add(
                        f"provider {name!r}: base_url must be an http(s) URL or 'embedded'",
                        (*path, "base_url"),
                        value=True,
                    )
                    ok = False
                else:
                    base_url = url.strip().rstrip("/")
            api_key = ""
            if "api_key" in fields:
                key_text = self.text(fields["api_key"], (*path, "api_key"), "api_key", secret=True)
                ok = ok and key_text is not None
                api_key = (key_text or "").strip()
            concurrency = 4
            if "concurrency" in fields:
                raw_conc = fields["concurrency"]
                if isinstance(raw_conc, str) and raw_conc.strip().isdigit():
                    raw_conc = int(raw_conc)
                conc = self.integer(raw_conc, (*path, "concurrency"), "concurrency", 1)
                ok = ok and conc is not None
                concurrency = conc or concurrency
            rate = None
            if "rate" in fields:
                try:
                    rate = parse_rate(fields["rate"])
                except ValueError as exc:
                    self.add(f"provider {name!r}: {exc}", (*path, "rate"), value=True)
                    ok = False
            if ok:
                result[name] = ProviderConfig(
                    name=name,
                    api=str(api),
                    base_url=base_url,
                    api_key=api_key,
                    concurrency=concurrency,
                    rate=rate,
                    line=self.doc.line(path),
                    lines={k: self.doc.line((*path, k)) for k in config},
                )
            else:
                # Keep the name known so shots naming it do not also fail.
                result[name] = ProviderConfig(name=name, api="?", line=self.doc.line(path))
        return result

    def fields(
        self, data: Mapping[str, Any], path: YamlPath, what: str
    ) -> dict[str, tuple[Any, YamlPath]]:
        """Check the per-shot fields present in `data` (a shot or defaults).

        Returns {model field: (value, yaml path)}; null values mean "not set" and
        are kept so a shot can clear a default. `seconds` becomes `duration`.
        """
        out: dict[str, tuple[Any, YamlPath]] = {}
        if "seconds" in data and "duration" in data:
            self.add(
                f"{what} gives both seconds and duration; they mean the same, keep one",
                (*path, "duration"),
            )
        for key, value in data.items():
            sub = (*path, key)
            field = "duration" if key == "seconds" else key
            if value is None or key not in SHOT_KEYS or key == "id":
                if key in SHOT_KEYS and key != "id":
                    out[field] = (None, sub)
                continue
            checked: Any = None
            if key in ("provider", "model", "template", "resolution", "ratio", "image", "prompt"):
                checked = self.text(value, sub, key)
                if checked is not None and not checked.strip():
                    self.add(f"{key} must not be empty", sub, value=True)
                    checked = None
            elif key == "remix":
                checked = self.slug(value, sub, "remix")
            elif key in ("seconds", "duration"):
                checked = self.duration(value, sub, key)
            elif key == "size":
                checked = self.text(value, sub, key)
                if checked is not None and not _SIZE.match(checked):
                    self.add(f"size {checked!r} must look like 1280x720", sub, value=True)
                    checked = None
            elif key == "seed":
                checked = self.integer(value, sub, "seed", 0)
            elif key == "vars":
                checked = self.variables(value, sub, f"{what} vars")
            elif key == "params":
                checked = self.mapping(value, sub, "params")
                if checked is not None and not self.json_value(checked, sub, "params"):
                    checked = None
            if checked is not None:
                out[field] = (checked, sub)
            else:
                out[field] = (_INVALID, sub)
        return out

    def duration(self, value: object, path: YamlPath, key: str) -> int | float | None:
        number: int | float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            try:
                number = float(value.strip().removesuffix("s"))
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            self.add(f"{key} must be a number of seconds, not {value!r}", path, value=True)
            return None
        return int(number) if float(number).is_integer() else number

    def shots(
        self,
        data: Mapping[str, Any],
        providers: Mapping[str, ProviderConfig],
        variables: Mapping[str, Any],
        defaults: Mapping[str, tuple[Any, YamlPath]],
        name: str | None,
        master_seed: int | None,
    ) -> list[Shot]:
        items = data.get("shots")
        if items is None:
            self.add("the storyboard has no `shots:`", ("shots",) if "shots" in data else ())
            return []
        if not isinstance(items, list):
            self.add(f"shots must be a list, not {_type_name(items)}", ("shots",), value=True)
            return []
        if not items:
            self.add("shots is empty", ("shots",))
        if not providers and items:
            where: YamlPath = ("providers",) if "providers" in data else ()
            self.add("no providers defined; add a `providers:` section", where)

        first_line: dict[str, int] = {}
        entries: list[tuple[int, dict[str, Any], str | None]] = []
        for index, item in enumerate(items):
            path: YamlPath = ("shots", index)
            shot = self.mapping(item, path, f"shots[{index}]")
            if shot is None:
                continue
            if item is None:
                self.add(f"shots[{index}] is empty", path)
                continue
            shot_id = None
            if "id" not in shot:
                self.add(f"shots[{index}] has no id", path)
            else:
                shot_id = self.slug(shot["id"], (*path, "id"), "shot id")
            if shot_id is not None:
                if shot_id in first_line:
                    self.add(
                        f"duplicate shot id {shot_id!r} (first used at line {first_line[shot_id]})",
                        (*path, "id"),
                        value=True,
                    )
                    shot_id = None
                else:
                    first_line[shot_id] = self.doc.line(path)
            label = f"shot {shot_id!r}" if shot_id else f"shots[{index}]"
            self.check_keys(shot, path, SHOT_KEYS, label)
            entries.append((index, shot, shot_id))

        env = make_environment(self.base_dir)
        single = next(iter(providers)) if len(providers) == 1 else None
        remixes: dict[str, list[str]] = {}
        bad_templates: set[str] = set()
        result: list[Shot] = []
        for index, shot, shot_id in entries:
            path = ("shots", index)
            label = f"shot {shot_id!r}" if shot_id else f"shots[{index}]"
            own = self.fields(shot, path, label)
            merged: dict[str, tuple[Any, YamlPath]] = {}
            for key, entry in defaults.items():
                if key not in ("prompt", "template", "vars", "params"):
                    merged[key] = entry
            for key, entry in own.items():
                if key not in ("vars", "params"):
                    merged[key] = entry
            # prompt and template are one choice: the shot's replaces the default's.
            source = own if ("prompt" in own or "template" in own) else defaults
            for key in ("prompt", "template"):
                if key in source:
                    merged[key] = source[key]
            values = {k: v for k, (v, _) in merged.items()}
            lines = {k: self.doc.line(p) for k, (v, p) in merged.items() if v is not None}
            lines["id"] = self.doc.line((*path, "id"))
            invalid = {k for k, v in values.items() if v is _INVALID}

            shot_vars, params = self.merge_shot_maps(own, defaults, lines)
            if shot_vars is None:
                invalid.add("vars")
            if params is None:
                invalid.add("params")

            prompt, template = values.get("prompt"), values.get("template")
            if prompt is not None and template is not None and "prompt" not in invalid:
                both_at = merged["template"][1]
                self.add(f"{label} has both prompt and template; keep one", both_at)
                invalid.add("prompt")
            elif prompt is None and template is None:
                self.add(f"{label} needs a prompt or a template", path)
                invalid.add("prompt")

            provider = values.get("provider")
            if provider is None and single is not None:
                provider = single
            elif provider is None and providers:
                self.add(
                    f"{label} has no provider; set `provider:` (one of {', '.join(providers)})",
                    path,
                )
            elif provider is not None and provider is not _INVALID and provider not in providers:
                self.add(
                    f"{label}: unknown provider {provider!r}{_suggest(provider, list(providers))}",
                    merged["provider"][1],
                    value=True,
                )

            image = values.get("image")
            if image is not None and image is not _INVALID:
                image = self.image(image, merged["image"][1])
                if image is None:
                    invalid.add("image")

            remix = values.get("remix")
            if remix is not None and remix is not _INVALID:
                if remix not in first_line:
                    self.add(
                        f"{label}: remix target {remix!r} is not a shot id"
                        + _suggest(remix, list(first_line)),
                        merged["remix"][1],
                        value=True,
                    )
                    invalid.add("remix")
                elif shot_id is not None:
                    remixes[shot_id] = [remix]

            if shot_id is None or invalid & {"prompt", "template", "vars"}:
                continue
            duration = values.get("duration")
            info = {
                "id": shot_id,
                "index": index,
                "number": index + 1,
                "provider": provider,
                "model": values.get("model"),
                "duration": duration,
                "size": values.get("size"),
                "resolution": values.get("resolution"),
                "ratio": values.get("ratio"),
            }
            context = build_context(
                storyboard={"name": name, "seed": master_seed},
                shot={k: (None if v is _INVALID else v) for k, v in info.items()},
                variables={**variables, **(shot_vars or {}), **self.overrides},
            )
            text_key = "template" if template is not None else "prompt"
            from_shot = text_key in own
            key_path = merged[text_key][1]
            line = self.doc.line(key_path) if from_shot else self.doc.line(path)
            if template is not None:
                # A missing or broken template is reported once, where it is named.
                if template in bad_templates:
                    continue
                try:
                    load_template(
                        env,
                        template,
                        file=self.file,
                        line=self.doc.line(key_path),
                        user=label if from_shot else "defaults",
                    )
                except InputError as exc:
                    self.problems.extend(exc.problems)
                    bad_templates.add(template)
                    continue
            prompt_line = self.doc.value_line(key_path) + (1 if key_path in self.doc.block else 0)
            try:
                rendered = render_prompt(
                    env,
                    context=context,
                    file=self.file,
                    line=line,
                    prompt=prompt if template is None else None,
                    template=template,
                    prompt_line=prompt_line,
                )
            except InputError as exc:
                self.problems.extend(exc.problems)
                continue
            if invalid or any(v is _INVALID for v in info.values()):
                continue
            result.append(
                Shot(
                    id=shot_id,
                    index=index,
                    provider=str(provider),
                    prompt=rendered,
                    model=values.get("model"),
                    template=template,
                    vars={k: v for k, v in context.items() if k not in _RESERVED_VARS},
                    duration=duration,
                    size=values.get("size"),
                    resolution=values.get("resolution"),
                    ratio=values.get("ratio"),
                    seed=values.get("seed"),
                    image=image,
                    remix=remix,
                    params=params or {},
                    line=self.doc.line(path),
                    depends_on=(remix,) if remix else (),
                    lines=lines,
                )
            )

        remix_lines = {
            sid: self.doc.line(("shots", i, "remix")) for i, _, sid in entries if sid is not None
        }
        self.problems.extend(cycle_problems(find_cycles(remixes), remix_lines, self.file))
        return result

    def merge_shot_maps(
        self,
        own: Mapping[str, tuple[Any, YamlPath]],
        defaults: Mapping[str, tuple[Any, YamlPath]],
        lines: dict[str, int],
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """vars and params merge key by key: the shot's entries over the defaults'."""
        merged: list[dict[str, Any] | None] = []
        for key in ("vars", "params"):
            result: dict[str, Any] | None = {}
            for layer in (defaults, own):
                if key not in layer:
                    continue
                value, path = layer[key]
                if value is _INVALID:
                    result = None
                    break
                assert result is not None
                for sub_key, sub_value in (value or {}).items():
                    result[sub_key] = sub_value
                    lines[f"{key}.{sub_key}"] = self.doc.line((*path, sub_key))
            merged.append(result)
        return merged[0], merged[1]

    def image(self, value: str, path: YamlPath) -> Path | str | None:
        text = value.strip()
        if _is_url(text):
            if text.lower().startswith("data:") and not _DATA_URL.match(text):
                self.add("image data: URL is malformed (expected data:<type>;base64,...)", path)
                return None
            if not text.lower().startswith("data:") and " " in text:
                self.add("image URL contains spaces", path, value=True)
                return None
            return text
        if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
            self.add(f"image: unsupported URL scheme in {text!r} (use http, https or data)", path)
            return None
        file = (self.base_dir / Path(text).expanduser()).resolve()
        if not file.is_file():
            self.add(f"image file not found: {text} (looked for {file})", path, value=True)
            return None
        return file

    def final(self, value: object, shot_ids: set[str]) -> FinalCut | None:
        if value is None:
            return None
        path: YamlPath = ("final",)
        data = self.mapping(value, path, "final")
        if data is None:
            return None
        self.check_keys(data, path, FINAL_KEYS, "final")
        concat = data.get("concat")
        if not isinstance(concat, list) or not concat:
            self.add("final.concat must be a non-empty list of shot ids", (*path, "concat"))
            return None
        known = list(self.all_ids())
        ids: list[str] = []
        for i, item in enumerate(concat):
            sub = (*path, "concat", i)
            text = self.text(item, sub, "final.concat item")
            if text is None:
                continue
            if text not in known:
                self.add(f"final.concat: unknown shot {text!r}{_suggest(text, known)}", sub)
                continue
            ids.append(text)
        return FinalCut(concat=tuple(ids), line=self.doc.line(path))

    def all_ids(self) -> list[str]:
        items = self.doc.data.get("shots") if isinstance(self.doc.data, dict) else None
        if not isinstance(items, list):
            return []
        return [str(s["id"]) for s in items if isinstance(s, dict) and isinstance(s.get("id"), str)]


class _Invalid:
    """Marks a field that failed its check, so later checks do not pile on."""

    def __repr__(self) -> str:
        return "<invalid>"


_INVALID: Any = _Invalid()


def _sorted_unique(problems: list[Problem], main_file: str) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file != main_file, p.file or "", p.line or 0))


def validate(
    doc: LoadedDocument,
    *,
    env: Mapping[str, str] | None = None,
    vars: Mapping[str, object] | None = None,
) -> Storyboard:
    """Check a LoadedDocument and build the frozen Storyboard (InputError lists all problems).

    `env` replaces os.environ for `${VAR}`; `vars` override every other variable.
    """
    return _Validator(doc, os.environ if env is None else env, vars or {}).run()


def load(
    path: Path | str,
    *,
    env: Mapping[str, str] | None = None,
    vars: Mapping[str, object] | None = None,
) -> Storyboard:
    """Parse and validate a storyboard file. Raises InputError with every problem found."""
    return validate(parse(path), env=env, vars=vars)


def storyboard_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for storyboard files, for editors and checks."""
    text = resources.files(__package__).joinpath("storyboard.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
