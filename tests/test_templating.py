"""Prompt templating: filters, lookup order, the sandbox and located errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import pytest

from vidpipe import templating
from vidpipe.errors import InputError
from vidpipe.templating import (
    build_context,
    clean,
    make_environment,
    oxford,
    project_templates_dir,
    render_prompt,
    sentence,
    template_search_path,
    truncate_words,
)

FILE = "board.yaml"


def render(
    base_dir: Path,
    *,
    prompt: str | None = None,
    template: str | None = None,
    variables: dict[str, Any] | None = None,
    shot_id: str = "s1",
    line: int = 10,
    prompt_line: int | None = None,
) -> str:
    context = build_context(
        storyboard={"name": "board", "seed": 1},
        shot={"id": shot_id, "index": 0, "number": 1},
        variables=variables or {},
    )
    return render_prompt(
        make_environment(base_dir),
        context=context,
        file=FILE,
        line=line,
        prompt=prompt,
        template=template,
        prompt_line=prompt_line,
    )


def fails(base_dir: Path, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as info:
        render(base_dir, **kwargs)
    return info.value


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the project's own templates folder."""
    folder = tmp_path / "project-templates"
    folder.mkdir()
    monkeypatch.setattr(templating, "project_templates_dir", lambda: folder)
    return folder


# --- filters -------------------------------------------------------------------------


def test_oxford() -> None:
    assert oxford([]) == ""
    assert oxford(["cat"]) == "cat"
    assert oxford(["cat", "dog"]) == "cat and dog"
    assert oxford(["cat", "dog", "fox"]) == "cat, dog, and fox"
    assert oxford(("cat", "dog", "fox"), "or") == "cat, dog, or fox"
    assert oxford(["  cat ", "", "dog"]) == "cat and dog"
    assert oxford("already a  phrase") == "already a phrase"
    assert oxford(x for x in ["a", "b"]) == "a and b"


def test_sentence() -> None:
    assert sentence("a cat walks") == "A cat walks."
    assert sentence("  a   cat\nwalks ") == "A cat walks."
    assert sentence("Does it?") == "Does it?"
    assert sentence("wow!") == "Wow!"
    assert sentence("keep iPhone case,") == "Keep iPhone case."
    assert sentence("") == ""


def test_clean_and_truncate_words() -> None:
    assert clean(" a\n\n b\tc ") == "a b c"
    assert truncate_words("one two three four", 2) == "one two"
    assert truncate_words("one two three four", 2, "...") == "one two..."
    assert truncate_words("one two", 5, "...") == "one two"
    with pytest.raises(ValueError):
        truncate_words("x", -1)


def test_filters_in_templates(tmp_path: Path) -> None:
    text = render(
        tmp_path,
        prompt="{{ ('we see ' ~ (animals | oxford)) | sentence }} {{ long | truncate_words(3) }}",
        variables={"animals": ("cat", "dog", "fox"), "long": "one two three four five"},
    )
    assert text == "We see cat, dog, and fox. one two three"


# --- context and output ----------------------------------------------------------------


def test_context_has_shot_and_storyboard(tmp_path: Path) -> None:
    text = render(
        tmp_path, prompt="{{ storyboard.name }}/{{ shot.id }}#{{ shot.index }}", shot_id="intro"
    )
    assert text == "board/intro#0"


def test_output_is_whitespace_normalised(tmp_path: Path) -> None:
    text = render(tmp_path, prompt="\n  {% if true %}\n  a   cat\n\n  {% endif %}\twalks  \n")
    assert text == "a cat walks"


def test_plain_prompts_render_as_themselves_and_compile_nothing(tmp_path: Path) -> None:
    templating._compiled.cache_clear()
    texts = [render(tmp_path, prompt=f"  shot {i}:\n a cat  {{ walks }} 100%  ") for i in range(50)]
    assert texts[7] == "shot 7: a cat { walks } 100%"
    assert templating._compiled.cache_info().currsize == 0  # 50 prompts, no template kept
    env = make_environment(tmp_path)
    assert templating.referenced_names(env, prompt="a plain {prompt}") == frozenset()
    assert render(tmp_path, prompt="a {{ what }}", variables={"what": "dog"}) == "a dog"
    assert fails(tmp_path, prompt="a {# open comment").problems[0].line == 10
    assert templating._compiled.cache_info().currsize == 1  # a prompt with a mark is one


def test_a_plain_prompt_of_only_whitespace_is_empty(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt=" \n\t ", line=14)
    assert "board.yaml:14: " in str(err) and "empty prompt" in str(err)


def test_empty_result_is_an_error(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt="{% if false %}x{% endif %}  ", line=12)
    assert "board.yaml:12: " in str(err) and "empty prompt" in str(err)


def test_random_is_seeded_and_lipsum_is_gone(tmp_path: Path) -> None:
    prompt = "{{ ['red', 'green', 'blue', 'gold', 'teal', 'pink'] | random }}"
    first = render(tmp_path, prompt=prompt, shot_id="a")
    assert all(render(tmp_path, prompt=prompt, shot_id="a") == first for _ in range(5))
    picks = {render(tmp_path, prompt=prompt, shot_id=f"s{i}") for i in range(30)}
    assert len(picks) > 1  # different shots get different picks
    err = fails(tmp_path, prompt="{{ lipsum() }}")
    assert "undefined" in str(err)


# --- strictness and the sandbox --------------------------------------------------------


def test_undefined_variable_is_an_error(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt="{{ hero }} and {{ villain }}", variables={"hero": "cat"})
    assert "board.yaml:10: " in str(err)
    assert "shot 's1'" in str(err) and "'villain' is undefined" in str(err)


def test_undefined_attribute_is_an_error(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt="{{ shot.nothing }}")
    assert "board.yaml:10: " in str(err) and "nothing" in str(err)


def test_inline_prompt_error_line_is_offset_from_the_prompt(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt="line one\nline two {{ nope }}", prompt_line=20)
    assert err.problems[0].line == 21
    err = fails(tmp_path, prompt="ok\n\n{% for %}", prompt_line=20)
    assert err.problems[0].line == 22 and "syntax error" in err.problems[0].message


def test_sandbox_blocks_internals(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt="{{ ''.__class__.__mro__[1].__subclasses__() }}")
    assert "board.yaml:10: " in str(err)
    err = fails(tmp_path, prompt="{{ items.append(4) }}", variables={"items": [1, 2, 3]})
    assert "board.yaml:10: " in str(err)


def test_runtime_errors_are_input_errors(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt="{{ 1 // 0 }}")
    assert "ZeroDivisionError" in str(err) and "board.yaml:10: " in str(err)


# --- template files ----------------------------------------------------------------------


def test_storyboard_templates_come_before_project_templates(
    tmp_path: Path, project_dir: Path
) -> None:
    local = tmp_path / "templates"
    local.mkdir()
    (local / "shared.j2").write_text("local version")
    (project_dir / "shared.j2").write_text("project version")
    (project_dir / "only-project.j2").write_text("from the project, {{ hero }}")
    assert template_search_path(tmp_path) == [local.resolve(), project_dir.resolve()]
    assert render(tmp_path, template="shared.j2") == "local version"
    assert render(tmp_path, template="only-project.j2", variables={"hero": "cat"}) == (
        "from the project, cat"
    )


def test_includes_search_both_folders(tmp_path: Path, project_dir: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "main.j2").write_text("{% include 'style.j2' %} scene")
    (project_dir / "style.j2").write_text("Cinematic,")
    assert render(tmp_path, template="main.j2") == "Cinematic, scene"
    (tmp_path / "templates" / "bad.j2").write_text("{% include 'absent.j2' %}")
    err = fails(tmp_path, template="bad.j2")
    assert "absent.j2" in str(err) and "board.yaml:10: " in str(err)


def test_missing_template_names_the_search_path(tmp_path: Path, project_dir: Path) -> None:
    err = fails(tmp_path, template="nope.j2", line=7)
    assert "board.yaml:7: " in str(err)
    assert "'nope.j2' not found" in str(err) and str(project_dir.resolve()) in str(err)


def test_template_paths_cannot_escape(tmp_path: Path, project_dir: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "templates").mkdir()
    err = fails(tmp_path, template="../secret.txt")
    assert "not found" in str(err)


def test_template_syntax_error_has_the_template_file_and_line(
    tmp_path: Path, project_dir: Path
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.j2").write_text("one\ntwo\n{{ unclosed \n")
    err = fails(tmp_path, template="broken.j2", line=33)
    problem = err.problems[0]
    assert problem.file is not None and problem.file.endswith("broken.j2")
    assert problem.line == 3
    assert "board.yaml:33" in problem.message and "broken.j2:3: " in str(err)


def test_undefined_in_template_file_names_its_line(tmp_path: Path, project_dir: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("one\n\n{{ missing }}\n")
    err = fails(tmp_path, template="t.j2", line=5)
    assert "board.yaml:5: " in str(err) and "template line 3" in str(err)


def test_render_needs_exactly_one_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render(tmp_path)
    with pytest.raises(ValueError):
        render(tmp_path, prompt="a", template="b")


# --- the project's own templates ---------------------------------------------------------


def test_project_templates_dir_is_the_repo_folder() -> None:
    folder = project_templates_dir()
    assert folder is not None
    assert folder == Path(templating.__file__).resolve().parents[1] / "templates"


@pytest.mark.parametrize(
    ("name", "variables", "expected"),
    [
        (
            "closeup.j2",
            {"hero": "a ginger cat", "emotion": "curious", "details": ["whiskers", "scarf"]},
            "Close-up of a ginger cat, looking curious. We notice whiskers and scarf.",
        ),
        (
            "establishing.j2",
            {"hero": "a ginger cat", "place": "a sunflower field", "mood": ["calm", "warm"]},
            "Wide establishing shot of a sunflower field. A ginger cat enters the frame.",
        ),
        (
            "remix.j2",
            {"change": "at night under the stars", "keep": ["the cat", "the scarf"]},
            "The same shot, but at night under the stars. Keep the cat and the scarf",
        ),
    ],
)
def test_shipped_templates_render(
    tmp_path: Path, name: str, variables: dict[str, Any], expected: str
) -> None:
    text = render(tmp_path, template=name, variables=variables)
    assert text.startswith(expected)
    assert "  " not in text and text.endswith(".")


def test_shipped_templates_need_their_documented_vars(tmp_path: Path) -> None:
    err = fails(tmp_path, template="closeup.j2", variables={"hero": "a cat"})
    assert "'emotion' is undefined" in str(err)


def test_an_inline_prompt_is_parsed_once_for_its_names_and_its_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = make_environment(tmp_path)
    parsed: list[str] = []
    real_parse = type(env)._parse

    def parse(self: Any, source: str, *args: Any) -> Any:
        parsed.append(source)
        return real_parse(self, source, *args)

    monkeypatch.setattr(type(env), "_parse", parse)
    prompt = "A {{ hero }} in the rain, take {{ shot.number }} (parsed once)"
    assert templating.referenced_names(env, prompt=prompt) == frozenset({"hero", "shot"})
    first = render(tmp_path, prompt=prompt, variables={"hero": "cat"}, shot_id="a")
    second = render(tmp_path, prompt=prompt, variables={"hero": "dog"}, shot_id="b")
    assert (first, second) == (
        "A cat in the rain, take 1 (parsed once)",
        "A dog in the rain, take 1 (parsed once)",
    )
    assert parsed == [prompt]


@pytest.mark.parametrize(
    "prompt",
    [
        "{{ hero }} and {{ shot.number }}",
        "{% set mood = 'calm' %}{{ mood }} {{ place }}",
        "{% for item in items %}{{ item }} {{ loop.index }} {{ extra }}{% endfor %}",
        "{% macro m(a) %}{{ a }} {{ b }}{% endmacro %}{{ m(c) }}",
        "{% if day %}{{ sun }}{% else %}{{ moon | upper }}{% endif %}",
        "{{ range(3) | join(',') }} {{ cycler }}",
        "no names at all",
    ],
)
def test_an_inline_prompts_names_are_what_jinja_finds_undeclared(
    tmp_path: Path, prompt: str
) -> None:
    """The names come from the pass that compiles the prompt; jinja's own tool agrees."""
    env = make_environment(tmp_path)
    expected = jinja2.meta.find_undeclared_variables(env.parse(prompt))
    assert templating.referenced_names(env, prompt=prompt) == frozenset(expected)


def test_an_unknown_filter_in_a_prompt_is_a_syntax_error_at_its_line(tmp_path: Path) -> None:
    err = fails(tmp_path, prompt="fine\n{{ hero | sparkle }}", prompt_line=30)
    problem = err.problems[0]
    assert problem.line == 31 and "prompt syntax error: No filter named 'sparkle'" in (
        problem.message
    )
    assert (
        templating.referenced_names(make_environment(tmp_path), prompt="{{ a | sparkle }}") is None
    )
