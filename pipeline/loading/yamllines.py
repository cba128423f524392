"""YAML with lines: a storyboard's data plus the line every key, item and value was written on.

Only YAML's safe constructors run. The fast libyaml parser is used where PyYAML has it; a
document it refuses is read again by the pure-Python parser, whose messages are clearer
and the same on every machine. Duplicate keys, unsupported tags, recursive aliases and
alias bombs are problems with a line, not surprises later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import InputError, Problem
from ..limits import MAX_STORYBOARD_BYTES, MAX_VALUES, size_text

__all__ = [
    "MAX_VALUES",
    "LoadedDocument",
    "YamlPath",
    "document_from_data",
    "dotted",
    "parse",
    "parse_text",
]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)

YamlPath = tuple[str | int, ...]


def dotted(path: YamlPath) -> str:
    """("final", "concat", 1) -> "final.concat[1]"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@attrs.frozen
class LoadedDocument:
    """Parsed YAML plus where each key and item was written (1-based lines).

    `key_lines` holds the line of each mapping key and each sequence item,
    `value_lines` where each value starts. `plain` holds the literal text of plain
    (unquoted) scalars, so `ratio: 16:9` can be read as text rather than YAML's base-60
    integer; `block` the paths of `|` and `>` scalars. `problems` are those found while
    parsing, such as duplicate keys. `path` is the file read (None for a string or a
    dict); relative file names in the storyboard are looked up in `base_dir`.
    """

    source: str
    base_dir: Path
    data: Any = attrs.field(repr=False)
    path: Path | None = None
    key_lines: Mapping[YamlPath, int] = attrs.field(factory=dict, repr=False)
    value_lines: Mapping[YamlPath, int] = attrs.field(factory=dict, repr=False)
    plain: Mapping[YamlPath, str] = attrs.field(factory=dict, repr=False)
    block: frozenset[YamlPath] = attrs.field(default=frozenset(), repr=False)
    problems: tuple[Problem, ...] = ()

    def line(self, path: YamlPath) -> int | None:
        """The line of the key or item at `path`, or of its nearest located parent.

        None for a document that has no lines (one built from a dict).
        """
        while path:
            if path in self.key_lines:
                return self.key_lines[path]
            path = path[:-1]
        return self.value_lines.get(())

    def value_line(self, path: YamlPath) -> int | None:
        """The line where the value at `path` starts (falls back like `line`)."""
        return self.value_lines.get(path) or self.line(path)

    def text_line(self, path: YamlPath) -> int | None:
        """The line where the text of the scalar at `path` starts (after a `|` or `>`)."""
        line = self.value_line(path)
        return line + 1 if line is not None and path in self.block else line

    def problem(self, message: str, path: YamlPath, *, value: bool = False) -> Problem:
        """A Problem in this document at the key (or, with `value`, the value) at `path`."""
        return Problem(message, self.source, self.value_line(path) if value else self.line(path))


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
        self.data: Any = None
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
            return self._scalar(node, path)
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
        return self._mapping(node, path)

    def _scalar(self, node: ScalarNode, path: YamlPath) -> Any:
        if not node.style:  # plain: None from PyYAML's parser, "" from libyaml's
            self.plain[path] = node.value
        elif node.style in "|>":
            self.block.add(path)
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self.problem(f"YAML: {exc.problem}", node)
            return None

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
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


def _distinct_values(root: Node) -> int:
    """How many values the tree holds, each node counted once (aliases not expanded)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(v for _, v in node.value)
    return len(seen)


def too_large(size: int, source: str) -> InputError:
    """The error for a storyboard of `size` bytes, over the limit."""
    return InputError(
        Problem(
            f"the storyboard is {size_text(size)}, over the limit of "
            f"{size_text(MAX_STORYBOARD_BYTES)}; split it, or keep images in files",
            source,
        )
    )


def _read_text(path: Path, source: str) -> str:
    """The file's text, refused unread when it is over the size limit (read at most that)."""
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > MAX_STORYBOARD_BYTES:
                raise too_large(size, source)
            raw = stream.read(MAX_STORYBOARD_BYTES + 1)  # a pipe or device has no size
        if len(raw) > MAX_STORYBOARD_BYTES:
            raise too_large(len(raw), source)
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError(Problem("storyboard file not found", source)) from None
    except IsADirectoryError:
        raise InputError(Problem("is a directory, not a storyboard file", source)) from None
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"not UTF-8 text ({exc.reason})", source)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read: {exc.strerror}", source)) from None


def _compose(text: str, source: str, loader_class: type[yaml.SafeLoader]) -> _Builder:
    """Compose and build `text`; the builder holds the data (as `.data`) and the lines."""
    loader = loader_class(text)
    builder = _Builder(loader, source)
    try:
        root = loader.get_single_node()
        if root is not None and builder.expanded_size(root, {}, set()) > MAX_VALUES:
            if _distinct_values(root) > MAX_VALUES:
                message = f"the document holds over {MAX_VALUES:,} values"
            else:
                message = f"the document expands to over {MAX_VALUES:,} values via aliases"
            raise InputError(Problem(message, source, 1))
        builder.data = builder.build(root, ()) if root is not None else None
        builder.value_lines.setdefault((), 1)  # an empty document is at its first line
    finally:
        loader.dispose()
    return builder


#: Constructs that PyYAML reports where they fail, though the mistake is where they opened.
_OPENED = {
    "while scanning a quoted scalar": "the quoted text that starts here is not closed",
    "while parsing a flow sequence": "the [ list that starts here is not closed",
    "while parsing a flow mapping": "the { mapping that starts here is not closed",
    "while scanning a simple key": "this key has no ':' after it",
}


def _runaway_quote(text: str, problem: yaml.Mark) -> yaml.ScalarToken | None:
    """A quoted text over several lines that ends where the error is found: most likely one
    whose closing quote is missing, so that it ran on to the next quote."""
    found = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= problem.index:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'"):
                found = token
    except yaml.YAMLError:
        pass
    if found is None or found.end_mark.line == found.start_mark.line:
        return None
    return found if found.end_mark.line >= problem.line - 1 else None


def _syntax_problem(exc: yaml.YAMLError, source: str, text: str) -> Problem:
    """One line for a YAML syntax error, at the line of the construct it is about."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(f"YAML error: {type(exc).__name__}", source, 1)
    runaway = _runaway_quote(text, exc.problem_mark) if exc.problem_mark else None
    if runaway is not None and exc.problem_mark is not None:
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        return Problem(
            f"YAML syntax error: the quoted text that starts here runs on to line "
            f"{runaway.end_mark.line + 1}; is its closing quote missing? ({what} at line "
            f"{exc.problem_mark.line + 1})",
            source,
            runaway.start_mark.line + 1,
        )
    opened = _OPENED.get(exc.context or "")
    if opened and exc.context_mark is not None:
        found = exc.problem or "an error"
        if exc.problem_mark is not None:
            found += f" at line {exc.problem_mark.line + 1}"
        return Problem(f"YAML syntax error: {opened} ({found})", source, exc.context_mark.line + 1)
    mark = exc.problem_mark or exc.context_mark
    what = " ".join(p for p in (exc.context, exc.problem) if p)
    return Problem(f"YAML syntax error: {what}", source, mark.line + 1 if mark else None)


def parse_text(
    text: str, *, source: str = "<string>", base_dir: Path | str = ".", path: Path | None = None
) -> LoadedDocument:
    """Read storyboard YAML (or JSON) text into a LoadedDocument.

    `source` names it in messages. Syntax errors raise InputError, as does text over
    the size limit (`limits.MAX_STORYBOARD_BYTES`).
    """
    if len(text) > MAX_STORYBOARD_BYTES // 4:  # only a long text can be over in UTF-8
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_STORYBOARD_BYTES:
            raise too_large(size, source)
    builder: _Builder | None = None
    try:
        if _FAST_LOADER is not None:
            try:
                builder = _compose(text, source, _FAST_LOADER)
            except yaml.YAMLError:
                builder = None  # read again below, for PyYAML's own message
        if builder is None:
            builder = _compose(text, source, yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InputError(_syntax_problem(exc, source, text)) from None
    except RecursionError:
        raise InputError(Problem("the document is nested too deeply", source, 1)) from None
    return LoadedDocument(
        source=source,
        base_dir=Path(base_dir).expanduser().resolve(),
        data=builder.data,
        path=path,
        key_lines=builder.key_lines,
        value_lines=builder.value_lines,
        plain=builder.plain,
        block=frozenset(builder.block),
        problems=tuple(builder.problems),
    )


def parse(path: Path | str) -> LoadedDocument:
    """Read a storyboard file into a LoadedDocument. Syntax errors raise InputError."""
    source = str(path)
    absolute = Path(path).expanduser().resolve()
    text = _read_text(absolute, source)
    return parse_text(text, source=source, base_dir=absolute.parent, path=absolute)


def document_from_data(
    data: Any, *, source: str = "<dict>", base_dir: Path | str = "."
) -> LoadedDocument:
    """A LoadedDocument for data built in Python (no lines: problems name key paths only)."""
    return LoadedDocument(source=source, base_dir=Path(base_dir).expanduser().resolve(), data=data)
