"""Loading storyboards: the model built, and every bad input located by file and line."""

from __future__ import annotations

import copy
import json
import pickle
import textwrap
from pathlib import Path

import attrs
import pytest
import yaml

from vidpipe.errors import InputError, Problem
from vidpipe.loading import LoadedDocument, expand_env, from_dict, load, loads, parse
from vidpipe.model import EMBEDDED, FrozenDict, ProviderConfig, Storyboard
from vidpipe.specs import default_registry

SECRET = "sk-test-DO-NOT-LEAK-1234567890"

GOOD = """\
version: 1
name: sunflower-cat
seed: 1234
providers:
  anyfast:
    api: anyfast
    base_url: ${ANYFAST_BASE_URL:-embedded}
    api_key: ${ANYFAST_API_KEY:-}
defaults: {provider: anyfast, model: sora-2, seconds: 4, size: 1280x720}
vars: {hero: "a ginger cat", light: "golden hour"}
shots:
  - id: establish
    prompt: "Wide shot: {{ hero }} walks through sunflowers, {{ light }}"
  - id: closeup
    template: closeup.j2
    vars: {emotion: curious}
    model: seedance-fast
    duration: 5
    ratio: 16:9
    params: {watermark: false, tags: [a, b]}
  - id: night
    remix: establish
    prompt: "The same shot at night"
  - id: poster
    model: happyhorse-1.0-i2v
    image: assets/poster.png
    seed: 7
    prompt: |
      Camera slowly
      zooms in on {{ hero }}
final: {concat: [establish, closeup, night]}
"""


def write(tmp_path: Path, text: str, name: str = "storyboard.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_good(tmp_path: Path, **env: str) -> Storyboard:
    (tmp_path / "assets").mkdir(exist_ok=True)
    (tmp_path / "assets" / "poster.png").write_bytes(b"\x89PNG")
    return load(write(tmp_path, GOOD), env=env)


def failure(path: Path, **kwargs: object) -> InputError:
    kwargs.setdefault("env", {})
    with pytest.raises(InputError) as info:
        load(path, **kwargs)  # type: ignore[arg-type]
    return info.value


def assert_problem(
    err: InputError, line: int, *fragments: str, file: str = "storyboard.yaml"
) -> Problem:
    """Some problem is at file:line and mentions every fragment; the text shows file:line."""
    for p in err.problems:
        located = p.line == line and p.file and Path(p.file).name == file
        if located and all(f in p.message for f in fragments):
            assert f"{file}:{line}: " in str(err)
            return p
    raise AssertionError(f"no problem at {file}:{line} with {fragments}; got:\n{err}")


# --- the model built from a good storyboard ------------------------------------------


def test_good_storyboard_builds_the_model(tmp_path: Path) -> None:
    sb = load_good(tmp_path)
    assert sb.name == "sunflower-cat"
    assert sb.version == 1 and sb.seed == 1234
    assert sb.path == (tmp_path / "storyboard.yaml").resolve()
    assert sb.base_dir == tmp_path.resolve()
    assert sb.shot_ids == ("establish", "closeup", "night", "poster")
    establish, closeup, night, poster = sb.shots
    assert establish.prompt == "Wide shot: a ginger cat walks through sunflowers, golden hour"
    assert establish.model == "sora-2" and establish.duration == 4 and establish.size == "1280x720"
    assert closeup.model == "seedance-fast" and closeup.duration == 5
    assert closeup.ratio == "16:9"  # plain 16:9 is not YAML 1.1's base-60 integer 969
    assert closeup.template == "closeup.j2" and "curious" in closeup.prompt
    assert closeup.params == {"watermark": False, "tags": ("a", "b")}
    assert night.remix == "establish" and night.depends_on == ("establish",)
    assert poster.image == (tmp_path / "assets" / "poster.png").resolve()
    assert poster.image_is_local
    assert poster.prompt == "Camera slowly zooms in on a ginger cat"
    assert [s.index for s in sb.shots] == [0, 1, 2, 3]
    assert sb.final is not None and sb.final.concat == ("establish", "closeup", "night")
    assert sb.final.line == 31
    assert sb.shot("night") is night
    with pytest.raises(KeyError):
        sb.shot("nope")


def test_shot_lines_point_at_own_and_inherited_values(tmp_path: Path) -> None:
    sb = load_good(tmp_path)
    closeup = sb.shot("closeup")
    assert closeup.line == 14
    assert closeup.lines["id"] == 14
    assert closeup.lines["template"] == 15
    assert closeup.lines["model"] == 17
    assert closeup.lines["duration"] == 18
    assert closeup.lines["ratio"] == 19
    assert closeup.lines["params.watermark"] == 20
    assert closeup.lines["vars.emotion"] == 16
    # Inherited from defaults: the defaults line, with seconds unified as duration.
    assert closeup.lines["size"] == 9
    assert sb.shot("establish").lines["duration"] == 9
    assert sb.shot("poster").lines["seed"] == 27


def test_single_provider_is_the_default_and_embedded(tmp_path: Path) -> None:
    sb = load_good(tmp_path)
    provider = sb.providers["anyfast"]
    assert provider.is_embedded and provider.base_url == EMBEDDED
    # No limit of its own unless its block gives one: the run's --concurrency applies.
    assert provider.api == "anyfast" and provider.concurrency is None and provider.api_key == ""
    assert provider.line == 5 and provider.lines["api_key"] == 8
    path = write(
        tmp_path,
        """\
        providers: {newapi: {}}
        shots: [{id: a, prompt: hi}]
        """,
        "single.yaml",
    )
    sb = load(path, env={})
    assert sb.shots[0].provider == "newapi"
    assert sb.providers["newapi"].api == "newapi"  # api defaults to a family-named provider
    assert sb.name == "single"  # name defaults to the file name
    assert sb.provider_for(sb.shots[0]) is sb.providers["newapi"]


def test_seeds_are_explicit_only(tmp_path: Path) -> None:
    sb = load_good(tmp_path)
    assert sb.seed == 1234
    assert sb.shot("poster").seed == 7
    assert sb.shot("night").seed is None  # derived later from the master seed, not here


def test_null_clears_a_default_and_url_images(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        defaults: {model: sora-2, size: 1280x720}
        shots:
          - {id: a, prompt: hi, model: ~, image: "https://cdn.example/x.png"}
          - {id: b, prompt: hi, image: "data:image/png;base64,iVBORw0KGgo="}
        """,
    )
    sb = load(path, env={})
    assert sb.shot("a").model is None and sb.shot("a").size == "1280x720"
    assert sb.shot("a").image == "https://cdn.example/x.png"
    assert not sb.shot("a").image_is_local
    assert sb.shot("b").image.startswith("data:image/png")  # type: ignore[union-attr]


def test_defaults_may_hold_a_template_and_vars_merge(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ a }} {{ b }} {{ c }}")
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        vars: {a: A, b: B, c: C}
        defaults: {template: t.j2, vars: {b: "b from defaults"}, params: {x: 1, y: 2}}
        shots:
          - {id: one, vars: {c: "c from shot"}, params: {y: 3}}
          - {id: two, prompt: "inline {{ b }}"}
        """,
    )
    sb = load(path, env={})
    assert sb.shot("one").prompt == "A b from defaults c from shot"
    assert sb.shot("one").params == {"x": 1, "y": 3}
    assert sb.shot("two").prompt == "inline b from defaults"
    assert sb.shot("two").template is None


def test_var_overrides_beat_storyboard_and_shot_vars(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        vars: {hero: cat}
        shots:
          - {id: a, prompt: "{{ hero }} {{ mood }}", vars: {hero: dog, mood: calm}}
        """,
    )
    assert load(path, env={}).shot("a").prompt == "dog calm"
    sb = load(path, env={}, vars={"hero": "fox"})
    assert sb.shot("a").prompt == "fox calm"
    assert sb.vars["hero"] == "fox"
    assert sb.shot("a").vars == {"hero": "fox", "mood": "calm"}
    err = failure(path, vars={"bad-name": "x"})
    assert "--var 'bad-name'" in str(err)


def test_yaml_anchors_and_merge_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        common: &common {model: sora-2, size: 720x1280}
        """,
    )
    # `common` is not a storyboard key: anchors belong under a known key.
    assert_problem(failure(path), 2, "unknown key 'common'")
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        vars: {base: &base {model: sora-2, size: 720x1280}}
        shots:
          - {<<: *base, id: a, prompt: hi}
          - {<<: *base, id: b, prompt: hi, size: 1280x720}
        """,
    )
    sb = load(path, env={})
    assert sb.shot("a").size == "720x1280" and sb.shot("a").model == "sora-2"
    assert sb.shot("b").size == "1280x720"
    assert sb.shot("a").lines["size"] == 2  # where the merged value is written


# --- environment interpolation -------------------------------------------------------


def test_expand_env() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert expand_env("x${A}y", env) == "x1y"
    assert expand_env("${B:-dflt}", env) == "dflt"
    assert expand_env("${EMPTY:-dflt}", env) == "dflt"
    assert expand_env("${EMPTY}", env) == ""
    assert expand_env("${A:-dflt}", env) == "1"
    assert expand_env("$${A}", env) == "${A}"
    with pytest.raises(ValueError, match="B is not set"):
        expand_env("${B}", env)
    with pytest.raises(ValueError, match="malformed"):
        expand_env("${not closed", env)


def test_env_interpolation_in_providers(tmp_path: Path) -> None:
    sb = load_good(tmp_path, ANYFAST_BASE_URL="https://gw.example/api/", ANYFAST_API_KEY=SECRET)
    provider = sb.providers["anyfast"]
    assert provider.base_url == "https://gw.example/api"
    assert not provider.is_embedded
    assert provider.api_key == SECRET
    path = write(
        tmp_path,
        """\
        providers:
          anyfast:
            concurrency: ${CONC:-2}
            api_key: ${KEY}
        shots: [{id: a, prompt: hi}]
        """,
        "env.yaml",
    )
    sb = load(path, env={"KEY": SECRET, "CONC": "9"})
    assert sb.providers["anyfast"].concurrency == 9
    assert load(path, env={"KEY": "k"}).providers["anyfast"].concurrency == 2
    err = failure(path, env={})
    assert_problem(err, 4, "KEY is not set", file="env.yaml")


def test_env_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDPIPE_TEST_URL", "http://127.0.0.1:9")
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {base_url: "${VIDPIPE_TEST_URL}"}}
        shots: [{id: a, prompt: hi}]
        """,
    )
    assert load(path).providers["anyfast"].base_url == "http://127.0.0.1:9"


# --- secrets --------------------------------------------------------------------------


def test_api_key_never_in_repr_or_str(tmp_path: Path) -> None:
    sb = load_good(tmp_path, ANYFAST_API_KEY=SECRET)
    assert sb.providers["anyfast"].api_key == SECRET
    for thing in (sb, sb.providers, sb.providers["anyfast"], *sb.shots, sb.final):
        assert SECRET not in repr(thing)
        assert SECRET not in str(thing)
    doc = parse(tmp_path / "storyboard.yaml")
    assert SECRET not in repr(doc)


def test_api_key_never_in_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        providers:
          anyfast:
            api_key: [{SECRET}]
            base_url: "ftp://user:{SECRET}@host"
            api: "{SECRET}x"
          b:
            api: newapi
            api_kye: {SECRET}
        shots: [{{id: a, prompt: hi, provider: anyfast}}]
        """,
    )
    err = failure(path)
    assert_problem(err, 3, "api_key must be a string")
    assert_problem(err, 4, "base_url must be an http(s) URL")
    assert_problem(err, 8, "unknown key 'api_kye'", "did you mean 'api_key'")
    assert SECRET not in str(err)
    assert all(SECRET not in repr(p) for p in err.problems)
    doc = parse(path)
    assert SECRET not in repr(doc)


# --- immutability ----------------------------------------------------------------------


def test_model_is_frozen(tmp_path: Path) -> None:
    sb = load_good(tmp_path)
    shot = sb.shot("closeup")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        shot.prompt = "changed"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sb.name = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sb.providers["anyfast"].api_key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        shot.params["watermark"] = True  # type: ignore[index]
    with pytest.raises(TypeError):
        sb.vars.update(hero="dog")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        del sb.providers["anyfast"]  # type: ignore[attr-defined]
    assert isinstance(shot.params["tags"], tuple)
    assert isinstance(sb.shots, tuple)


def test_frozen_values_serialise_hash_and_copy(tmp_path: Path) -> None:
    sb = load_good(tmp_path)
    shot = sb.shot("closeup")
    assert json.loads(json.dumps(shot.params)) == {"watermark": False, "tags": ["a", "b"]}
    assert hash(shot) == hash(copy.deepcopy(shot))
    again = pickle.loads(pickle.dumps(shot.params))
    assert isinstance(again, FrozenDict) and again == shot.params
    assert load_good(tmp_path) == sb


# --- YAML-level problems ---------------------------------------------------------------


def test_yaml_syntax_error_has_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nshots:\n  - id: a\n    prompt: [unclosed\n  - id: b\n")
    err = failure(path)
    assert len(err.problems) == 1
    problem = err.problems[0]
    assert problem.file == str(path) and problem.line is not None and problem.line >= 4
    assert "YAML syntax error" in problem.message
    assert f"storyboard.yaml:{problem.line}: " in str(err)


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nshots:\n\t- id: a\n")
    assert_problem(failure(path), 3, "YAML syntax error")


def test_several_documents_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\n---\nname: y\n")
    assert_problem(failure(path), 2, "YAML syntax error", "single document")


def test_duplicate_yaml_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: one
        providers: {anyfast: {}}
        shots:
          - id: a
            prompt: hi
            prompt: again
        name: two
        """,
    )
    err = failure(path)
    assert_problem(err, 6, "duplicate key 'prompt'", "line 5")
    assert_problem(err, 7, "duplicate key 'name'", "line 1")


def test_unsafe_tags_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: a
            prompt: !!python/object/apply:os.system ["echo hi"]
        """,
    )
    assert_problem(failure(path), 4, "unsupported YAML tag")
    path = write(tmp_path, "providers: {anyfast: {}}\nshots: [{id: a, prompt: !!binary aGk=}]\n")
    assert_problem(failure(path), 2, "prompt must be a string, not bytes")


def test_recursive_alias_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        vars: {loop: &loop [1, *loop]}
        shots: [{id: a, prompt: hi}]
        """,
    )
    assert_problem(failure(path), 2, "recursive")


def test_alias_bombs_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    path = write(tmp_path, "\n".join(["vars:", *("  " + line for line in lines)]) + "\n")
    assert_problem(failure(path), 1, "expands to over")
    path = write(tmp_path, "vars: {deep: " + "[" * 1000 + "]" * 1000 + "}\n")
    assert_problem(failure(path), 1, "nested too deeply")


def test_empty_and_non_mapping_files(tmp_path: Path) -> None:
    assert_problem(failure(write(tmp_path, "# nothing\n")), 1, "empty")
    assert_problem(failure(write(tmp_path, "- a\n- b\n")), 1, "must be a mapping")


def test_missing_file(tmp_path: Path) -> None:
    err = failure(tmp_path / "absent.yaml")
    assert "absent.yaml" in str(err) and "not found" in str(err)


# --- storyboard-level problems ----------------------------------------------------------


def test_unknown_keys_with_hints(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        version: 1
        providrs: {}
        providers:
          anyfast: {api: anyfast, concurency: 2}
        defaults: {modle: sora-2}
        shots:
          - id: a
            promt: hi
            prompt: hi
            zzzzzz: 1
        final: {concatenate: [a]}
        """,
    )
    err = failure(path)
    assert_problem(err, 2, "unknown key 'providrs'", "did you mean 'providers'")
    assert_problem(err, 4, "unknown key 'concurency'", "did you mean 'concurrency'")
    assert_problem(err, 5, "unknown key 'modle'", "did you mean 'model'")
    assert_problem(err, 8, "unknown key 'promt'", "shot 'a'", "did you mean 'prompt'")
    zz = assert_problem(err, 10, "unknown key 'zzzzzz'")
    assert "did you mean" not in zz.message
    assert_problem(err, 11, "unknown key 'concatenate'", "did you mean 'concat'")


def test_wrong_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        seed: lots
        providers:
          anyfast: {concurrency: 0}
        vars: [a, b]
        shots:
          - id: a
            prompt: hi
            seconds: forever
            size: 1280
            model: [sora-2]
            params: [x]
            vars: {"bad name": 1}
          - just a string
        """,
    )
    err = failure(path)
    assert_problem(err, 1, "seed must be an integer")
    assert_problem(err, 3, "concurrency must be 1 or more")
    assert_problem(err, 4, "vars must be a mapping")
    assert_problem(err, 8, "seconds 'forever' is not a number of seconds")
    assert_problem(err, 9, "size '1280' must look like 1280x720")
    assert_problem(err, 10, "model must be a string")
    assert_problem(err, 11, "params must be a mapping")
    assert_problem(err, 12, "variable name 'bad name'")
    assert_problem(err, 13, "shots[1] must be a mapping")


def test_shots_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "providers: {anyfast: {}}\nshots: {id: a}\n")
    assert_problem(failure(path), 2, "shots must be a list")


def test_non_json_values_in_params_and_vars(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        vars: {day: 2024-01-01}
        shots:
          - id: a
            prompt: hi
            params:
              nested: {when: 2024-01-02}
        """,
    )
    err = failure(path)
    assert_problem(err, 2, "vars.day must be a string, a number", "not a date", "quote it")
    assert_problem(err, 7, "shot 'a': params.nested.when must be a string", "not a date")


def test_reserved_variable_names(tmp_path: Path) -> None:
    path = write(
        tmp_path, "providers: {anyfast: {}}\nvars: {shot: x}\nshots: [{id: a, prompt: hi}]\n"
    )
    assert_problem(failure(path), 2, "'shot'", "reserved")


def test_bad_version_and_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        version: 2
        name: Sunflower Cat
        providers: {anyfast: {}}
        shots: [{id: a, prompt: hi}]
        """,
    )
    err = failure(path)
    assert_problem(err, 1, "version must be 1, not 2")
    assert_problem(err, 2, "name 'Sunflower Cat' is not a slug")


# --- shot-level problems ----------------------------------------------------------------


def test_non_slug_and_missing_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - {id: Establish, prompt: hi}
          - {id: "has space", prompt: hi}
          - {id: -dash, prompt: hi}
          - {id: ok, prompt: hi}
          - {prompt: hi}
          - {id: "%s", prompt: hi}
        """
        % ("x" * 65),
    )
    err = failure(path)
    assert_problem(err, 3, "'Establish' is not a slug")
    assert_problem(err, 4, "'has space' is not a slug")
    assert_problem(err, 5, "'-dash' is not a slug")
    assert_problem(err, 7, "shots[4] has no id")
    assert_problem(err, 8, "is not a slug")
    assert not [p for p in err.problems if p.line == 6]


def test_duplicate_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: a
            prompt: hi
          - id: a
            prompt: again
        """,
    )
    assert_problem(failure(path), 5, "duplicate shot id 'a'", "line 3")


def test_missing_and_double_prompt(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("hi")
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: none
            model: sora-2
          - id: both
            prompt: hi
            template: t.j2
          - id: blank
            prompt: "   "
        """,
    )
    err = failure(path)
    assert_problem(err, 3, "shot 'none' needs a prompt or a template")
    assert_problem(err, 7, "shot 'both' has both prompt and template")
    assert_problem(err, 9, "shot 'blank': prompt '   ' must not be empty")


def test_seconds_and_duration_together(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        defaults: {seconds: 4}
        shots:
          - {id: a, prompt: hi, duration: 8}
          - id: b
            prompt: hi
            seconds: 4
            duration: 4
        """,
    )
    err = failure(path)
    assert_problem(err, 8, "shot 'b' has both seconds and duration", "mean the same")
    assert len(err.problems) == 1  # the shot's duration overriding the default seconds is fine


def test_duration_accepts_numeric_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - {id: a, prompt: hi, seconds: "8"}
          - {id: b, prompt: hi, duration: 2.5}
          - {id: c, prompt: hi, duration: 4s}
        """,
    )
    sb = load(path, env={})
    assert [s.duration for s in sb.shots] == [8, 2.5, 4]
    assert isinstance(sb.shot("a").duration, int)


def test_unknown_and_missing_providers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers:
          anyfast: {}
          gateway: {api: newapi, base_url: "https://gw.example"}
          mystery: {}
        shots:
          - {id: a, prompt: hi, provider: anyfst}
          - {id: b, prompt: hi}
          - {id: c, prompt: hi, provider: gateway}
        """,
    )
    err = failure(path)
    assert_problem(err, 4, "provider 'mystery' needs `api:`")
    assert_problem(err, 6, "unknown provider 'anyfst'", "did you mean 'anyfast'")
    assert_problem(err, 7, "shot 'b' has no provider")
    assert not [p for p in err.problems if p.line == 8]


def test_no_providers_at_all(tmp_path: Path) -> None:
    path = write(tmp_path, "shots: [{id: a, prompt: hi}]\n")
    assert_problem(failure(path), 1, "no providers defined")


def test_bad_provider_api(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers:
          gw: {api: openai}
        shots: [{id: a, prompt: hi}]
        """,
    )
    err = failure(path)
    assert_problem(err, 2, f"api must be one of {', '.join(default_registry().apis())}")
    assert "openai" not in str(err)  # provider values are never echoed


def test_unknown_remix_target(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - {id: establish, prompt: hi}
          - id: night
            prompt: hi
            remix: establsh
        """,
    )
    assert_problem(failure(path), 6, "remix target 'establsh'", "did you mean 'establish'")


def test_remix_cycles(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: a
            prompt: hi
            remix: c
          - id: b
            prompt: hi
            remix: a
          - id: c
            prompt: hi
            remix: b
          - {id: self, prompt: hi, remix: self}
          - {id: fine, prompt: hi, remix: a}
        """,
    )
    err = failure(path)
    cycle = assert_problem(err, 5, "remix cycle", "a (line 5)", "b (line 8)", "c (line 11)")
    assert "fine" not in cycle.message
    assert_problem(err, 12, "remix cycle", "self (line 12) -> self")
    assert len(err.problems) == 2


def test_unknown_final_concat_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots: [{id: establish, prompt: hi}]
        final:
          concat:
            - establish
            - establsh
        """,
    )
    assert_problem(failure(path), 6, "unknown shot 'establsh'", "did you mean 'establish'")
    path = write(
        tmp_path, "providers: {anyfast: {}}\nshots: [{id: a, prompt: hi}]\nfinal: {concat: []}\n"
    )
    assert_problem(failure(path), 3, "final.concat must not be empty")


def test_missing_image_file_and_bad_urls(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: a
            prompt: hi
            image: assets/missing.png
          - {id: b, prompt: hi, image: "ftp://host/x.png"}
          - {id: c, prompt: hi, image: "data:nonsense"}
        """,
    )
    err = failure(path)
    assert_problem(err, 5, "image file not found: assets/missing.png")
    assert_problem(err, 6, "unsupported URL scheme")
    assert_problem(err, 7, "data: URL is malformed")


def test_missing_template_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: a
            template: nowhere.j2
        """,
    )
    assert_problem(failure(path), 4, "template 'nowhere.j2' not found")


def test_a_bad_default_template_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.j2").write_text("{{ oops ")
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        defaults:
          template: missing.j2
        shots:
          - {id: a}
          - {id: b}
          - {id: c, template: broken.j2}
          - {id: d, template: broken.j2}
        """,
    )
    err = failure(path)
    assert len(err.problems) == 2
    assert_problem(err, 3, "defaults: template 'missing.j2' not found")
    problem = assert_problem(err, 1, "template syntax error", file="broken.j2")
    assert "shot 'c'" in problem.message and "storyboard.yaml:7" in problem.message


def test_template_syntax_error_points_into_the_template(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.j2").write_text("Line one\nLine two\n{% if %}\n")
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: a
            template: broken.j2
        """,
    )
    err = failure(path)
    problem = assert_problem(err, 3, "template syntax error", file="broken.j2")
    assert "storyboard.yaml:4" in problem.message  # and the shot that uses it


def test_missing_template_variable(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("First line\n{{ hero }} and {{ villain }}\n")
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        vars: {hero: cat}
        shots:
          - id: a
            template: t.j2
          - id: b
            prompt: "{{ hero }} meets {{ sidekick }}"
        """,
    )
    err = failure(path)
    problem = assert_problem(err, 5, "shot 'a'", "'villain' is undefined")
    assert "template line 2" in problem.message
    assert_problem(err, 7, "shot 'b'", "'sidekick' is undefined")


def test_inline_prompt_errors_point_at_the_prompt_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - id: a
            prompt: |
              first line
              second {{ missing }}
          - id: b
            prompt: |
              ok
              {% if %}
        """,
    )
    err = failure(path)
    assert_problem(err, 6, "'missing' is undefined")
    assert_problem(err, 10, "prompt syntax error")


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        nmae: x
        providers: {anyfast: {}}
        shots:
          - {id: A, prompt: hi}
          - {id: b}
          - {id: c, prompt: hi, remix: zz}
          - {id: d, prompt: hi, image: nope.png}
        final: {concat: [qq]}
        """,
    )
    err = failure(path)
    assert [p.line for p in err.problems] == [1, 4, 5, 6, 7, 8]
    assert all(p.file == str(path) for p in err.problems)
    assert all(isinstance(p, Problem) for p in err.problems)


def test_parse_keeps_lines_for_keys_and_items(tmp_path: Path) -> None:
    path = write(tmp_path, "a:\n  b:\n    - x\n    -\n      y\nc: 1\n")
    doc = parse(path)
    assert isinstance(doc, LoadedDocument)
    assert doc.data == {"a": {"b": ["x", "y"]}, "c": 1}
    assert doc.line(("a",)) == 1 and doc.line(("a", "b")) == 2
    assert doc.line(("a", "b", 0)) == 3
    assert doc.line(("a", "b", 1)) == doc.value_line(("a", "b", 1)) == 5
    assert doc.line(("c",)) == 6 and doc.line(("c", "missing")) == 6
    assert doc.problems == ()


def test_provider_config_repr_hides_key() -> None:
    config = ProviderConfig(name="p", api="anyfast", api_key=SECRET)
    assert SECRET not in repr(config) and "api_key" not in repr(config)


def test_provider_rate_limits(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers:
          anyfast: {rate: 60/min}
          apifree: {rate: 2}
          newapi: {rate: "${RATE:-5/s}"}
        shots: [{id: a, prompt: hi, provider: anyfast}]
        """,
    )
    sb = load(path, env={})
    assert sb.providers["anyfast"].rate == 1.0
    assert sb.providers["apifree"].rate == 2.0
    assert sb.providers["newapi"].rate == 5.0
    bad = write(
        tmp_path,
        """\
        providers:
          anyfast:
            rate: 5/fortnight
        shots: [{id: a, prompt: hi}]
        """,
        "bad.yaml",
    )
    assert_problem(failure(bad), 3, "rate", "60/min", file="bad.yaml")


# --- plain numbers, broken values -----------------------------------------------------


def test_plain_numbers_are_text_where_text_is_wanted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        providers: {anyfast: {}}
        shots:
          - {id: a, prompt: hi, ratio: 1:1, model: 1.50, resolution: 720}
          - {id: b, prompt: hi, seed: 0x10, duration: 1.50}
        """,
    )
    a, b = load(path, env={}).shots
    assert (a.ratio, a.model, a.resolution) == ("1:1", "1.50", "720")
    assert (b.seed, b.duration) == (16, 1.5)  # numbers where numbers are wanted


def test_a_broken_value_is_reported_once(tmp_path: Path) -> None:
    """Later checks leave a broken value alone instead of reporting it again."""
    path = write(
        tmp_path,
        """\
        providers:
          gw: {api: nope}
          other: {api: newapi}
        vars: [hero]
        defaults: {size: huge}
        shots:
          - {id: a, prompt: "{{ hero }}", provider: gw}
          - {id: b, prompt: "{{ hero }}", provider: other}
        """,
    )
    err = failure(path)
    assert [p.line for p in err.problems] == [2, 4, 5]
    assert_problem(err, 2, "api must be one of")
    assert_problem(err, 4, "vars must be a mapping, not a list")
    assert_problem(err, 5, "defaults.size 'huge' must look like 1280x720")


# --- the Python API: paths, text and dicts ----------------------------------------------


def test_load_takes_a_str_or_a_path(tmp_path: Path) -> None:
    by_path = load_good(tmp_path)
    assert load(str(tmp_path / "storyboard.yaml"), env={}) == by_path


def test_loads_checks_text_as_load_checks_a_file(tmp_path: Path) -> None:
    load_good(tmp_path)  # writes the assets
    from_text = loads(GOOD, base_dir=tmp_path, source="board.yaml", env={})
    assert [s.prompt for s in from_text.shots] == [s.prompt for s in load_good(tmp_path).shots]
    assert from_text.source == "board.yaml" and from_text.base_dir == tmp_path.resolve()
    assert from_text.shot("poster").image == (tmp_path / "assets" / "poster.png").resolve()
    bad = textwrap.dedent(GOOD).replace("  - id: night\n", "  - id: night\n    promt: x\n")
    with pytest.raises(InputError) as info:
        loads(bad, base_dir=tmp_path, env={})
    (problem,) = info.value.problems
    assert str(problem) == (
        "<string>:22: unknown key 'promt' in shot 'night' (did you mean 'prompt'?)"
    )


def test_loads_reads_json(tmp_path: Path) -> None:
    text = json.dumps(
        {"name": "j", "providers": {"anyfast": {}}, "shots": [{"id": "a", "prompt": "hi"}]}
    )
    assert loads(text, base_dir=tmp_path, env={}).shot("a").prompt == "hi"
    with pytest.raises(InputError) as info:
        loads('{"name": "j", "shots": [}', env={})
    assert info.value.problems[0].message.startswith("YAML syntax error")


def test_a_storyboard_without_a_file_needs_a_name(tmp_path: Path) -> None:
    data = {"providers": {"anyfast": {}}, "shots": [{"id": "a", "prompt": "hi"}]}
    with pytest.raises(InputError) as info:
        from_dict(data, base_dir=tmp_path, env={})
    assert [str(p) for p in info.value.problems] == [
        "<dict>: add a `name:` (a slug); there is no file name"
    ]
    assert from_dict({**data, "name": "n"}, base_dir=tmp_path, env={}).name == "n"


def test_from_dict_builds_what_the_file_builds(tmp_path: Path) -> None:
    from_file = load_good(tmp_path)
    data = yaml.safe_load(GOOD)
    data["shots"][1]["ratio"] = "16:9"  # YAML read `16:9` unquoted as a number
    data["shots"][1]["params"]["tags"] = ("a", "b")  # tuples are lists
    board = from_dict(data, base_dir=tmp_path, env={})
    assert board.shots == tuple(attrs.evolve(s, line=None) for s in from_file.shots)
    assert board.providers == {
        name: attrs.evolve(p, line=None) for name, p in from_file.providers.items()
    }
    assert board.shot("closeup").lines == {}  # no lines: a dict was never written anywhere
    data["shots"][0]["prompt"] = "changed"
    assert board.shot("establish").prompt != "changed"  # the data was copied


def test_from_dict_problems_name_their_key_paths(tmp_path: Path) -> None:
    data = {
        "name": "d",
        "providers": {"anyfast": {"rate": "fast"}},
        "shots": [{"id": "a", "promt": "x"}, {"id": "b", "prompt": "x", "seed": -1}],
    }
    with pytest.raises(InputError) as info:
        from_dict(data, base_dir=tmp_path, source="mine", env={})
    assert sorted(str(p) for p in info.value.problems) == [
        "mine: provider 'anyfast': rate must be a number per second, or like \"60/min\" or "
        '"1000/hour"',
        "mine: shot 'a' needs a prompt or a template",
        "mine: shot 'b': seed must be 0 or more, not -1",
        "mine: unknown key 'promt' in shot 'a' (did you mean 'prompt'?)",
    ]


def test_the_package_exports_the_three_ways_in() -> None:
    import vidpipe

    assert vidpipe.load is load and vidpipe.loads is loads and vidpipe.from_dict is from_dict
    assert {"load", "loads", "from_dict"} <= set(vidpipe.__all__)
