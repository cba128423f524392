"""A jinja2 sandbox whose renders end quickly and stay small, whatever the template does.

jinja2's `ImmutableSandboxedEnvironment` keeps a template away from Python's internals, and
its `range()` stops at 100,000 items. It does not bound time or size: two nested loops run
for hours, and `{{ 'ab ' * 10**7 }}` makes 30 MB in one step. `BoundedSandbox` adds:

- sizes: the operators `*`, `**`, `+` and `%`, every call and every filter check, before they
  run, that what they would make stays under `limits.MAX_RENDER_CHARS` (text, items, digits),
  and their results are checked again; so is every value a `{{ }}` prints;
- steps: `render_bounded` runs a template counting the lines of template code it executes
  (every loop pass is one or more), and stops after `limits.MAX_RENDER_STEPS`; it also
  stops as soon as the output it yields passes `MAX_RENDER_CHARS`.

Both raise `RenderLimit`, which says which bound was reached. Counting steps rather than
seconds keeps a storyboard's result the same on a fast machine and a slow one.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sized
from types import FrameType
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .limits import MAX_RENDER_CHARS, MAX_RENDER_STEPS

__all__ = ["BoundedSandbox", "RenderLimit", "render_bounded", "value_size"]

_NUMBERS = re.compile(r"\d+")
_NESTED_FIELD = re.compile(r"\{[^}]*\{")  # `{:{}}`: a width taken from the arguments


class RenderLimit(Exception):
    """A template went past one of the bounds (the message says which)."""


def _too_large(what: str) -> RenderLimit:
    return RenderLimit(f"{what} would make more than {MAX_RENDER_CHARS:,} characters")


def value_size(value: object, limit: int = MAX_RENDER_CHARS) -> int:
    """How large `value` is as text (characters, items, digits), counting shared parts each
    time they occur; the count stops a little past `limit`, so it is cheap for any value."""
    total = 0
    stack: list[object] = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 1
        elif isinstance(item, int):
            total += _digits(item.bit_length())
        elif isinstance(item, Mapping):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            stack.extend(item)
        elif isinstance(item, Sized):  # a range, a dict view: as long as what it stands for
            total += max(1, len(item))
        else:
            total += 1
    return total


def _digits(bits: int) -> int:
    """About how many decimal digits a number of `bits` bits has."""
    return bits * 30103 // 100000 + 1


def _check(value: object, what: str) -> object:
    if value_size(value) > MAX_RENDER_CHARS:
        raise _too_large(what)
    return value


def _count(value: object) -> int | None:
    """A whole number argument, or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _format_risk(fmt: str, values: tuple[object, ...]) -> bool:
    """Whether a format string (`%` or `str.format`) could pad far past the limit: a width
    written in it, or a width taken from the values (`%*d`, `{:{}}`)."""
    if any(int(n) > MAX_RENDER_CHARS for n in _NUMBERS.findall(fmt)):
        return True
    fields = fmt.replace("{{", "").replace("}}", "")
    if "*" in fmt or _NESTED_FIELD.search(fields):
        return any((_count(v) or 0) > MAX_RENDER_CHARS for v in values)
    return False


def _replaced_size(text: str, old: str, new: str) -> int:
    hits = len(text) + 1 if not old else text.count(old)
    return len(text) + hits * len(new)


def _joined_size(items: object, sep: object) -> int:
    count = len(items) if isinstance(items, list | tuple | str) else 0
    return value_size(items) + value_size(sep) * count


def _format_size(fmt: str, values: tuple[object, ...]) -> int:
    return MAX_RENDER_CHARS + 1 if _format_risk(fmt, values) else 0


def _binop_size(operator: str, left: Any, right: Any) -> tuple[int, str]:
    """About how large `left <operator> right` would be, and what to call it."""
    if operator == "*":
        if _count(left) is not None and _count(right) is not None:
            return _digits(left.bit_length() + right.bit_length()), "a product"
        times, other = (left, right) if _count(left) is not None else (right, left)
        if _count(times) is not None and not isinstance(other, int | float):
            return times * value_size(other), f"repeating a value {times:,} times"
    elif operator == "**" and _count(left) is not None and _count(right) is not None:
        if right > 0 and abs(left) > 1:
            return _digits(right * abs(left).bit_length()), "a power"
    elif operator == "+" and not isinstance(left, int | float):
        return value_size(left) + value_size(right), "joining two values"
    elif operator == "%" and isinstance(left, str):
        values = right if isinstance(right, tuple) else (right,)
        return _format_size(left, values), "formatting with this width"
    return 0, ""


def _method_size(owner: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """About how large the string method `owner.name(*args)` would make its result."""
    first = args[0] if args else None
    if name in ("ljust", "rjust", "center", "zfill"):
        return _count(first) or 0
    if name == "expandtabs":
        return owner.count("\t") * (_count(first) or 0)
    if name == "replace" and len(args) >= 2:
        return _replaced_size(owner, str(args[0]), str(args[1]))
    if name == "join" and args:
        return _joined_size(list(args[0]), owner)
    if name in ("format", "format_map"):
        return _format_size(owner, (*args, *kwargs.values()))
    return 0


def _filter_size(name: str, value: Any, rest: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """About how large the filters that can grow their input would make their result."""
    if name in ("center", "indent"):
        width = rest[0] if rest else kwargs.get("width")
        lines = str(value).count("\n") + 1 if name == "indent" else 1
        return lines * (len(width) if isinstance(width, str) else (_count(width) or 0))
    if name == "join":
        return _joined_size(value, rest[0] if rest else kwargs.get("d", ""))
    if name == "replace" and len(rest) >= 2:
        return _replaced_size(str(value), str(rest[0]), str(rest[1]))
    if name == "format" and isinstance(value, str):
        return _format_size(value, (*rest, *kwargs.values()))
    return 0


def _call_guard(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """A call's arguments, and what a method of a string would make, within the bounds."""
    # The sandbox hands `str.format` over wrapped; the wrapper keeps the method it wraps.
    method = getattr(obj, "__wrapped__", obj)
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    for value in (*args, *kwargs.values()):
        _check(value, "an argument")
    if isinstance(owner, str) and _method_size(owner, name, args, kwargs) > MAX_RENDER_CHARS:
        raise _too_large(f"str.{name}")


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` (a filter) refusing input that is too large, and output too."""
    # A filter may take the environment, context or eval context first (jinja's pass_*).
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        value, rest = (args[skip], args[skip + 1 :]) if len(args) > skip else (None, ())
        _check(value, f"the input of the {name} filter")
        for extra in (*rest, *kwargs.values()):
            _check(extra, f"an argument of the {name} filter")
        if _filter_size(name, value, rest, kwargs) > MAX_RENDER_CHARS:
            raise _too_large(f"the {name} filter")
        return _check(func(*args, **kwargs), f"the output of the {name} filter")

    return guarded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the size bounds above (see `render_bounded` for steps)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, finalize=_finalize, **kwargs)

    def guard_filters(self) -> None:
        """Wrap every filter (call again after adding filters)."""
        for name, func in list(self.filters.items()):
            if not getattr(func, "__vidpipe_guarded__", False):
                guarded = _guarded_filter(name, func)
                guarded.__vidpipe_guarded__ = True  # type: ignore[attr-defined]
                self.filters[name] = guarded

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        size, what = _binop_size(operator, left, right)
        if size > MAX_RENDER_CHARS:
            raise _too_large(what)
        return _check(super().call_binop(context, operator, left, right), "the result")

    def call(
        __self,  # jinja2's own spelling: keeps `self` free as a keyword argument
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _call_guard(__obj, args, kwargs)
        result = ImmutableSandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)
        return _check(result, "the result of a call")


def _finalize(value: Any) -> Any:
    """Every value a `{{ }}` prints, checked before it becomes text."""
    return _check(value, "a printed value")


@contextlib.contextmanager
def _step_budget(env: jinja2.Environment, steps: int) -> Iterator[None]:
    """Count the lines of `env`'s template code run in this thread; raise past `steps`."""
    count = 0

    def on_line(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if count > steps:
                raise RenderLimit(f"runs over {steps:,} template steps (a loop that is too long?)")
        return on_line

    def on_call(frame: FrameType, event: str, arg: object) -> Any:
        # Template code runs with the environment in its globals; nothing else is traced.
        return on_line if frame.f_globals.get("environment") is env else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(previous)


def render_bounded(
    template: jinja2.Template, context: Mapping[str, Any], *, statements: bool = True
) -> str:
    """`template.render(context)`, stopped by `RenderLimit` past the step or size bound.

    `statements=False` says the template has no `{% %}` tags: without a loop, a macro or an
    include, its steps are bounded by its own length, and they are not counted.
    """
    parts: list[str] = []
    size = 0
    budget = (
        _step_budget(template.environment, MAX_RENDER_STEPS)
        if statements
        else contextlib.nullcontext()
    )
    with budget:
        for part in template.generate(dict(context)):
            size += len(part)
            if size > MAX_RENDER_CHARS:
                raise RenderLimit(f"renders over {MAX_RENDER_CHARS:,} characters")
            parts.append(part)
    return "".join(parts)
