"""Prompt templating: a jinja2 sandbox with strict undefined variables.

Templates are looked up in `templates/` next to the storyboard first, then in the
project's own `templates/`. Inline prompts use the same environment, so filters and
`{% include %}` work in both. Every rendered prompt is whitespace-normalised.

Renders are bounded in steps and size (`vidpipe.sandbox`), so a template that loops for
ever or makes megabytes of text is an input problem with a line, not a hang.

Filters for prompts: `oxford` (["a", "b", "c"] -> "a, b, and c"), `sentence`
(capitalise, end with a period), `clean` (collapse whitespace) and `truncate_words(n)`.
The built-in `random` filter is replaced by a seeded one, so a prompt never changes
between runs, and `lipsum` is removed for the same reason.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import io
import random as _random
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.meta
import jinja2.nodes
from jinja2.sandbox import SandboxedEnvironment

from .errors import InputError, Problem
from .sandbox import BoundedSandbox, RenderLimit, render_bounded

_WS = re.compile(r"\s+")
_END_PUNCT = (".", "!", "?", "…", '."', '!"', '?"')


def project_templates_dir() -> Path | None:
    """vidpipe's own prompt templates (the `templates/` folder, shipped in the package)."""
    from . import prompt_templates

    candidate = Path(prompt_templates.__file__).resolve().parent
    return candidate if candidate.is_dir() else None


def template_search_path(base_dir: Path) -> list[Path]:
    """Folders searched for `template:` names, in order (only those that exist)."""
    found: list[Path] = []
    for candidate in (Path(base_dir) / "templates", project_templates_dir()):
        if candidate is not None and candidate.is_dir():
            resolved = candidate.resolve()
            if resolved not in found:
                found.append(resolved)
    return found


# --- filters -----------------------------------------------------------------------


def clean(value: object) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return _WS.sub(" ", str(value)).strip()


def oxford(items: object, conjunction: str = "and") -> str:
    """Join items as an English list with an Oxford comma: "a, b, and c"."""
    if isinstance(items, str) or not isinstance(items, Iterable):
        return clean(items)
    words = [w for w in (clean(i) for i in items) if w]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return f"{words[0]} {conjunction} {words[1]}"
    return f"{', '.join(words[:-1])}, {conjunction} {words[-1]}"


def sentence(value: object) -> str:
    """Clean, capitalise the first letter (leaving the rest alone) and end with a period."""
    text = clean(value)
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if not text.endswith(_END_PUNCT):
        text = text.rstrip(",;:") + "."
    return text


def truncate_words(value: object, count: int, end: str = "") -> str:
    """Keep the first `count` words; append `end` only if something was cut."""
    words = clean(value).split(" ")
    if count < 0:
        raise ValueError("truncate_words needs a count of 0 or more")
    if len(words) <= count:
        return " ".join(words)
    return " ".join(words[:count]) + end


@jinja2.pass_context
def _seeded_random(context: jinja2.runtime.Context, seq: Sequence[Any]) -> Any:
    """Pick an item deterministically from the shot id, storyboard seed and the items."""
    items = list(seq)
    if not items:
        raise ValueError("random: no items to choose from")
    shot = context.get("shot")
    board = context.get("storyboard")
    key = repr(
        (
            shot.get("id") if isinstance(shot, Mapping) else None,
            board.get("seed") if isinstance(board, Mapping) else None,
            items,
        )
    )
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return _random.Random(seed).choice(items)


FILTERS: dict[str, Any] = {
    "clean": clean,
    "oxford": oxford,
    "sentence": sentence,
    "truncate_words": truncate_words,
    "random": _seeded_random,
}


def make_environment(base_dir: Path) -> SandboxedEnvironment:
    """A sandboxed, strict environment that finds templates for a storyboard in base_dir.

    Storyboards with the same template folders share one environment, so each template
    file is compiled once (and again only when the file changes).
    """
    return _environment(tuple(template_search_path(base_dir)))


@functools.lru_cache(maxsize=16)
def _environment(search_path: tuple[Path, ...]) -> SandboxedEnvironment:
    env = BoundedSandbox(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters.update(FILTERS)
    env.guard_filters()
    env.globals.pop("lipsum", None)
    return env


class _NamingCodeGenerator(jinja2.compiler.CodeGenerator):
    """jinja2's code generator, noting on the way the names a template reads from its
    context (what `jinja2.meta.find_undeclared_variables` finds with a second pass)."""

    def __init__(self, environment: jinja2.Environment, stream: io.StringIO) -> None:
        super().__init__(environment, None, None, stream, False, environment.optimized)
        self.undeclared: set[str] = set()

    def enter_frame(self, frame: jinja2.compiler.Frame) -> None:
        super().enter_frame(frame)
        for action, param in frame.symbols.loads.values():
            if action == "resolve" and param not in self.environment.globals:
                self.undeclared.add(param)


@functools.lru_cache(maxsize=1024)
def _compiled(
    env: SandboxedEnvironment, source: str
) -> tuple[jinja2.Template, frozenset[str], tuple[str | None, ...]]:
    """An inline prompt compiled, the names it reads and the templates it names (None: by
    variable): parsed and generated once however many shots share its text."""
    ast = _parsed(env, source)
    python = io.StringIO()
    generator = _NamingCodeGenerator(env, python)
    try:
        generator.visit(ast)
    except jinja2.TemplateSyntaxError:  # an unknown filter or test, say
        env.handle_exception(source=source)
    code = env._compile(python.getvalue(), "<template>")  # as `env.compile` ends
    template = env.template_class.from_code(env, code, env.make_globals(None))
    return template, frozenset(generator.undeclared), _referenced_templates(ast)


#: What starts a jinja2 expression, statement or comment.
_MARKS = ("{{", "{%", "{#")


def _plain(source: str) -> bool:
    """Whether a prompt is plain text, which renders as itself: nothing to compile (a
    storyboard of thousands of distinct plain prompts keeps no template for each)."""
    return not any(mark in source for mark in _MARKS)


def _inline(env: SandboxedEnvironment, source: str) -> jinja2.Template:
    """An inline prompt, compiled once however many shots share its text."""
    return _compiled(env, source)[0]


@functools.lru_cache(maxsize=1024)
def _parsed(env: SandboxedEnvironment, source: str) -> jinja2.nodes.Template:
    """A template source's syntax tree, parsed once."""
    return env.parse(source)


def build_context(
    *,
    storyboard: Mapping[str, Any],
    shot: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> dict[str, Any]:
    """The render context: variables plus `shot` and `storyboard` info."""
    context = dict(variables)
    context["shot"] = dict(shot)
    context["storyboard"] = dict(storyboard)
    return context


def _template_line(tb: TracebackType | None, filename: str | None) -> int | None:
    """The innermost template line in a traceback that jinja has rewritten."""
    line = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in (filename, "<template>"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def load_template(
    env: SandboxedEnvironment, name: str, *, file: str, line: int | None, user: str
) -> jinja2.Template:
    """Load and compile a template file, or raise InputError.

    A missing template is reported at `file:line` (where `user`, e.g. "shot 'a'", names
    it); a syntax error at the template's own file and line, naming `user` and file:line.
    """
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        searched = ", ".join(str(p) for p in getattr(env.loader, "searchpath", [])) or "nowhere"
        what = (
            f"template {name!r}" if exc.name == name else f"template {exc.name!r} (from {name!r})"
        )
        raise InputError(
            Problem(f"{user}: {what} not found (searched: {searched})", file, line)
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        where = f" (used by {user} at {file}:{line})"
        raise InputError(
            Problem(
                f"template syntax error: {exc.message}{where}", exc.filename or name, exc.lineno
            )
        ) from None


_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")


def _undefined_hint(exc: jinja2.UndefinedError, context: Mapping[str, Any]) -> str:
    """` (did you mean 'x'?)` for an undefined name close to one the context has."""
    match = _UNDEFINED_NAME.match(exc.message or "")
    if match is None:
        return ""
    close = difflib.get_close_matches(match.group(1), [str(k) for k in context], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def referenced_names(
    env: SandboxedEnvironment, *, prompt: str | None = None, template: str | None = None
) -> frozenset[str] | None:
    """The variables an inline `prompt` or a `template` file (with what it includes,
    imports or extends) reads. None when that cannot be known: a template that cannot be
    read or parsed, or one that names another through a variable."""
    try:
        if template is not None:
            return _template_names(env, template, frozenset())
        return _source_names(env, prompt or "")
    except (jinja2.TemplateError, OSError):
        return None


def _source_names(env: SandboxedEnvironment, source: str) -> frozenset[str] | None:
    if _plain(source):
        return frozenset()
    _, names, others = _compiled(env, source)
    found = set(names)
    for name in others:
        more = None if name is None else _template_names(env, name, frozenset())
        if more is None:
            return None
        found |= more
    return frozenset(found)


def _template_names(
    env: SandboxedEnvironment, name: str, within: frozenset[str]
) -> frozenset[str] | None:
    if name in within or env.loader is None:
        return frozenset() if name in within else None
    names, others = _parsed_names(env, env.loader.get_source(env, name)[0])
    found = set(names)
    for other in others:
        more = None if other is None else _template_names(env, other, within | {name})
        if more is None:
            return None
        found |= more
    return frozenset(found)


@functools.lru_cache(maxsize=1024)
def _parsed_names(
    env: SandboxedEnvironment, source: str
) -> tuple[frozenset[str], tuple[str | None, ...]]:
    """The names a template's source reads, and the templates it names (None: by variable)."""
    ast = _parsed(env, source)
    names = frozenset(jinja2.meta.find_undeclared_variables(ast))
    return names, _referenced_templates(ast)


def _referenced_templates(ast: jinja2.nodes.Template) -> tuple[str | None, ...]:
    return tuple(jinja2.meta.find_referenced_templates(ast))


def render_prompt(
    env: SandboxedEnvironment,
    *,
    context: Mapping[str, Any],
    file: str,
    line: int | None,
    prompt: str | None = None,
    template: str | None = None,
    prompt_line: int | None = None,
) -> str:
    """Render an inline `prompt` or a `template` file and normalise its whitespace.

    `file`/`line` locate the shot (the `template:` key) for messages; `prompt_line` is
    the line where the inline prompt text starts. Raises InputError on a syntax error
    (at the template's own file and line), an undefined variable, a missing template,
    a sandbox violation, or an empty result.
    """
    if (prompt is None) == (template is None):
        raise ValueError("render_prompt needs exactly one of prompt or template")
    shot_id = (context.get("shot") or {}).get("id", "?")
    what = f"template {template!r}" if template is not None else "prompt"
    base_line = prompt_line if prompt_line is not None else line

    def inline_line(tpl_line: int | None) -> int | None:
        if template is not None or tpl_line is None or base_line is None:
            return line
        return base_line + tpl_line - 1

    if template is None and _plain(prompt or ""):
        return _cleaned(prompt or "", what, shot_id, file, line)
    if template is not None:
        tpl = load_template(env, template, file=file, line=line, user=f"shot {shot_id!r}")
    else:
        try:
            tpl = _inline(env, prompt or "")
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(
                Problem(
                    f"shot {shot_id!r}: prompt syntax error: {exc.message}",
                    file,
                    inline_line(exc.lineno),
                )
            ) from None

    try:
        text = render_bounded(
            tpl, context, statements=template is not None or "{%" in (prompt or "")
        )
    except jinja2.TemplateNotFound as exc:  # a missing {% include %}
        raise InputError(
            Problem(f"shot {shot_id!r}: {what} includes missing template {exc.name!r}", file, line)
        ) from None
    except jinja2.TemplateSyntaxError as exc:  # a broken included template
        raise InputError(
            Problem(
                f"template syntax error: {exc.message} (included by shot {shot_id!r} at {file}:{line})",
                exc.filename or "<template>",
                exc.lineno,
            )
        ) from None
    except Exception as exc:
        # Templates are user input: any failure inside them is an input problem.
        tpl_line = _template_line(sys.exc_info()[2], tpl.filename)
        at = f" (template line {tpl_line})" if template is not None and tpl_line else ""
        if isinstance(exc, jinja2.UndefinedError):
            reason = f"undefined variable: {exc.message}{_undefined_hint(exc, context)}"
        elif isinstance(exc, RenderLimit):
            reason = str(exc)
        elif isinstance(exc, jinja2.exceptions.SecurityError):
            reason = f"not allowed in the sandbox: {exc}"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise InputError(
            Problem(f"shot {shot_id!r}: {what}{at}: {reason}", file, inline_line(tpl_line))
        ) from None

    return _cleaned(text, what, shot_id, file, line)


def _cleaned(text: str, what: str, shot_id: str, file: str, line: int | None) -> str:
    result = clean(text)
    if not result:
        raise InputError(Problem(f"shot {shot_id!r}: {what} renders an empty prompt", file, line))
    return result
