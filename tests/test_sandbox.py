"""The bounded sandbox: templates end in a bounded number of steps and stay small, and the
ordinary things prompts do still work."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from vidpipe import limits, sandbox
from vidpipe.sandbox import RenderLimit, render_bounded, value_size
from vidpipe.templating import build_context, make_environment, render_prompt

LIMIT = limits.MAX_RENDER_CHARS


def render(source: str, **context: Any) -> str:
    env = make_environment(Path("/nonexistent"))
    return render_bounded(env.from_string(source), {"hero": "a cat", **context})


def limit(source: str, **context: Any) -> str:
    with pytest.raises(RenderLimit) as info:
        render(source, **context)
    return str(info.value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ hero | center(9) }}", "  a cat  "),
        ("{{ ['a', 'b'] | join(', ') }}", "a, b"),
        ("{{ hero | replace('cat', 'dog') }}", "a dog"),
        ("{{ '%s!' % hero }}", "a cat!"),
        ("{{ '{}?'.format(hero) }}", "a cat?"),
        ("{{ '%05d' | format(42) }}", "00042"),
        ("{{ hero.ljust(7) }}|", "a cat  |"),
        ("{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ 3 * 4 }} {{ [1] + [2] }}", "ababab 1024 12 [1, 2]"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
        ("{{ ([1, 2] * 2) | sum }}", "6"),
    ],
)
def test_ordinary_templates_render_as_before(source: str, expected: str) -> None:
    assert render(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ 'ab ' * 10**7 }}", "repeating a value 10,000,000 times"),
        ("{{ 10**7 * 'ab ' }}", "repeating a value 10,000,000 times"),
        ("{{ [0] * 10**6 }}", "repeating a value 1,000,000 times"),
        ("{% set s = 'x' * 90000 %}{{ s + s }}", "joining two values"),
        ("{{ 7 ** 999999 }}", "a power"),
        ("{% set n = 10 ** 60000 %}{{ n * n }}", "a product"),
        ("{{ '%99999999d' % 1 }}", "formatting with this width"),
        ("{{ '%*d' % (10**9, 1) }}", "formatting with this width"),
        ("{{ '{:>99999999}'.format(1) }}", "str.format"),
        ("{{ '{:{}}'.format(1, 10**9) }}", "str.format"),
        ("{{ hero.rjust(10**9) }}", "str.rjust"),
        ("{{ ('\t' * 1000).expandtabs(1000) }}", "str.expandtabs"),
        ("{{ ('x' * 50000).replace('x', 'xyz') }}", "str.replace"),
        ("{{ ','.join(['x' * 60000, 'y' * 60000]) }}", "an argument"),
        ("{{ hero | center(10**9) }}", "the center filter"),
        ("{{ ('a\n' * 40000) | indent(10) }}", "the indent filter"),
        ("{{ (['a'] * 30000) | join('-' * 10) }}", "the join filter"),
        ("{{ ('x' * 60000) | replace('x', 'xx') }}", "the replace filter"),
        ("{{ '%099999999d' | format(1) }}", "the format filter"),
        ("{% set big = ['x' * 99999] %}{{ big * 2 }}", "repeating a value 2 times"),
        ("{{ ([range(99999)] * 50000) | map('list') | list }}", "repeating a value 50,000 times"),
    ],
)
def test_what_would_grow_past_the_limit_is_stopped_before_it_is_made(
    source: str, message: str
) -> None:
    assert limit(source) == f"{message} would make more than {LIMIT:,} characters"


def test_a_large_value_is_not_printed() -> None:
    big = ["x" * 60000, "y" * 60000]
    assert (
        limit("{{ big }}", big=big) == f"a printed value would make more than {LIMIT:,} characters"
    )
    assert limit("{{ big | string }}", big=big).startswith("the input of the string filter")


def test_endless_loops_stop_after_the_step_budget() -> None:
    nested = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    assert (
        limit(nested)
        == f"runs over {limits.MAX_RENDER_STEPS:,} template steps (a loop that is too long?)"
    )
    macro = (
        "{% macro m(n) %}{% for i in range(99999) %}{% endfor %}{{ m(n) }}{% endmacro %}{{ m(1) }}"
    )
    assert "template steps" in limit(macro) or "recursion" in limit(macro).lower()


def test_output_stops_at_the_limit_while_it_is_made() -> None:
    assert limit("{% for i in range(99999) %}abc{% endfor %}") == (
        f"renders over {LIMIT:,} characters"
    )


def test_the_step_budget_counts_each_render_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "MAX_RENDER_STEPS", 500)
    source = "{% for i in range(100) %}{{ i }}{% endfor %}"
    for _ in range(20):  # twenty renders of ~200 steps each: every one is within 500
        assert render(source).endswith("99")
    assert "template steps" in limit("{% for i in range(1000) %}{{ i }}{% endfor %}")


@pytest.fixture
def outer_tracer() -> Iterator[list[str]]:
    calls: list[str] = []

    def tracer(frame: FrameType, event: str, arg: object) -> None:
        calls.append(event)

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield calls
    finally:
        sys.settrace(previous)


def test_a_tracer_already_set_is_put_back(outer_tracer: list[str]) -> None:
    tracer = sys.gettrace()
    assert render("{{ hero }}") == "a cat"
    assert sys.gettrace() is tracer
    limit("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}")
    assert sys.gettrace() is tracer


def test_value_size_counts_shared_parts_each_time_and_stops_early() -> None:
    part = "x" * 1000
    assert value_size(part) == 1000
    assert value_size([part, part]) == 2001
    assert value_size({"k": part}) == 1002
    assert value_size(10**300) in range(300, 310)
    assert value_size(range(5000)) == 5000 and value_size({"a": 1}.keys()) == 1
    huge = [[part] * 1000] * 1000  # a billion characters, in a few kilobytes
    assert LIMIT < value_size(huge) < LIMIT + 2000


def test_steps_are_counted_only_where_a_prompt_has_statements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without `{% %}` a prompt cannot loop: it is rendered without the step counter."""
    counted: list[str] = []
    real = sandbox._step_budget

    def counting(env: Any, steps: int) -> Any:
        counted.append("budget")
        return real(env, steps)

    monkeypatch.setattr(sandbox, "_step_budget", counting)
    env = make_environment(Path("/nonexistent"))
    context = build_context(storyboard={}, shot={"id": "s"}, variables={"hero": "a cat"})
    kwargs: dict[str, Any] = {"context": context, "file": "f.yaml", "line": 1}
    assert render_prompt(env, prompt="{{ hero | upper }}", **kwargs) == "A CAT"
    assert counted == []
    assert render_prompt(env, prompt="{% if hero %}{{ hero }}{% endif %}", **kwargs) == "a cat"
    assert counted == ["budget"]
