"""Bad input through the CLI: exit code 2, one line per problem naming file and line, and not
one request sent to the loopback emulator the storyboard points at.

Each case edits a copy of the example storyboard. If a check were missing, the run would go
ahead and the emulator would count its requests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner, Result

from vidpipe.cli import main
from vidpipe.emulator import EmulatorConfig

from .test_e2e import EXAMPLES, KEYS, Loopback, copy_example, loopback

EXAMPLE = (EXAMPLES / "storyboard.yaml").read_text()


@pytest.fixture(scope="module")
def module_server() -> Iterator[Loopback]:
    with loopback(EmulatorConfig(job_seconds=0)) as server:
        yield server


@pytest.fixture
def server(module_server: Loopback) -> Loopback:
    module_server.reset()
    return module_server


@attrs.frozen
class Case:
    """Edits to the example (each `old` must occur once), extra arguments, expected problems.

    Each expected problem is (text on the line it points at, or None for no line; message).
    """

    edits: tuple[tuple[str, str], ...]
    problems: tuple[tuple[str | None, str], ...]
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str | None], ...] = ()


CASES = {
    "yaml-syntax": Case(
        (("  - id: night\n", "  - id: night: [\n"),),
        (("id: night: [", "YAML syntax error: mapping values are not allowed here"),),
    ),
    "unknown-key": Case(
        (("    duration: 5\n", "    durration: 5\n"),),
        (("durration: 5", "unknown key 'durration' in shot 'closeup' (did you mean 'duration'?)"),),
    ),
    "bad-size": Case(
        (
            (
                "    template: establishing.j2\n",
                "    template: establishing.j2\n    size: 999x999\n",
            ),
        ),
        (
            (
                "size: 999x999",
                "shot 'establish': size: '999x999' is not one of: "
                "720x1280, 1280x720, 1024x1792, 1792x1024",
            ),
        ),
    ),
    "bad-ratio": Case(
        (("    duration: 5\n", "    duration: 5\n    ratio: 7:3\n"),),
        (
            (
                "ratio: 7:3",
                "shot 'closeup': ratio: '7:3' is not one of: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, "
                "adaptive",
            ),
        ),
    ),
    "duration-out-of-range": Case(
        (("    duration: 5\n", "    duration: 99\n"),),
        (("duration: 99", "shot 'closeup': duration: 99 is out of range -1..15"),),
    ),
    "seed-on-a-seedless-api": Case(
        (("    duration: 5\n", "    duration: 5\n    seed: 3\n"),),
        (
            (
                "seed: 3",
                "shot 'closeup': seedance-fast on anyfast (anyfast_seedance) takes no seed; "
                "remove `seed` (the result is not seed-reproducible on this API)",
            ),
        ),
    ),
    "missing-variable-in-a-prompt": Case(
        (("{{ hero }} blinks", "{{ villain }} blinks"),),
        (("{{ villain }} blinks", "shot 'poster': prompt: undefined variable: 'villain'"),),
    ),
    "missing-variable-in-a-template": Case(
        (("vars: {emotion: curious", "vars: {feeling: curious"),),
        (
            (
                "template: closeup.j2",
                "shot 'closeup': template 'closeup.j2' (template line 3): undefined variable: "
                "'emotion' is undefined",
            ),
        ),
    ),
    "missing-template-file": Case(
        (("template: remix.j2", "template: nightfall.j2"),),
        (("template: nightfall.j2", "shot 'night': template 'nightfall.j2' not found"),),
    ),
    "missing-image-file": Case(
        (("image: assets/poster.png          # image-to", "image: assets/gone.png  # image-to"),),
        (("image: assets/gone.png", "image file not found: assets/gone.png"),),
    ),
    "remix-cycle": Case(
        (("  - id: establish\n", "  - id: establish\n    remix: night\n"),),
        (("remix: night", "remix cycle: establish (line {remix: night}) -> night"),),
    ),
    "unknown-remix-target": Case(
        (("remix: establish ", "remix: estabish "),),
        (
            (
                "remix: estabish",
                "shot 'night': remix target 'estabish' is not a shot id (did you mean 'establish'?)",
            ),
        ),
    ),
    "non-slug-id": Case(
        (("  - id: poster\n", "  - id: Poster Shot\n"),),
        (("id: Poster Shot", "shots[3]: id 'Poster Shot' is not a slug"),),
    ),
    "duplicate-id": Case(
        (("  - id: poster\n", "  - id: closeup  # again\n"),),
        (("# again", "duplicate shot id 'closeup' (first used at line {id: closeup$})"),),
    ),
    "unknown-provider": Case(
        (("    provider: apifree\n", "    provider: apifre\n"),),
        (
            (
                "provider: apifre",
                "shot 'drone': unknown provider 'apifre' (did you mean 'apifree'?)",
            ),
        ),
    ),
    "unknown-model": Case(
        (("model: kling-video", "model: kling-vidoe"),),
        (
            (
                "model: kling-vidoe",
                "shot 'finale': api 'newapi' has no model 'kling-vidoe'; did you mean "
                "'kling-video'?",
            ),
        ),
    ),
    "unset-environment-variable": Case(
        (("api_key: ${APIFREE_API_KEY:-}", "api_key: ${APIFREE_API_KEY}"),),
        (
            (
                "api_key: ${APIFREE_API_KEY}",
                "provider 'apifree' api_key: environment variable APIFREE_API_KEY is not set",
            ),
        ),
        env=(("APIFREE_API_KEY", None),),
    ),
    "no-key-for-a-gateway": Case(
        (),
        (
            (
                "api_key: ${NEWAPI_API_KEY:-}",
                "provider 'gateway': api_key is empty, but base_url is a gateway",
            ),
        ),
        env=(("NEWAPI_API_KEY", None),),
    ),
    "only-an-unknown-shot": Case(
        (), ((None, "--only: no shot 'nite'"),), args=("--only", "night", "--only", "nite")
    ),
    "bad-var": Case(
        (),
        ((None, "--var 'hero': expected NAME=VALUE"), (None, "--var '=x': expected NAME=VALUE")),
        args=("--var", "light=dusk", "--var", "hero", "--var", "=x"),
    ),
}


def write_case(tmp_path: Path, case: Case) -> tuple[Path, str]:
    board = copy_example(tmp_path)
    text = EXAMPLE
    for old, new in case.edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    board.write_text(text)
    return board, text


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the single line holding `needle` (ending it, with a final `$`)."""
    lines = enumerate(text.splitlines(), 1)
    if needle.endswith("$"):
        found = [n for n, line in lines if line.endswith(needle[:-1])]
    else:
        found = [n for n, line in lines if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def expected_lines(
    board: Path, text: str, problems: tuple[tuple[str | None, str], ...]
) -> list[re.Pattern[str]]:
    """A regex per expected problem line: `error: FILE:LINE: message...`."""
    patterns = []
    for needle, message in problems:
        # `{remix: night}` in a message stands for the line of that text.
        message = re.sub(r"\{([^}]+)\}", lambda m: str(line_of(text, m.group(1))), message)
        where = str(board) if needle is None else f"{board}:{line_of(text, needle)}"
        patterns.append(re.compile(re.escape(f"error: {where}: {message}")))
    return patterns


def invoke(server: Loopback, args: list[str], env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {**server.env(KEYS), **(env or {})}
    return CliRunner(env=environment).invoke(main, args, catch_exceptions=False)


def assert_nothing_sent(server: Loopback, tmp_path: Path) -> None:
    assert server.requests == []
    stats = server.stats()
    assert stats["creates"]["total"] == 0 and stats["polls"]["total"] == 0
    assert stats["downloads"]["total"] == 0 and stats["rejected"] == {}
    # Nothing was started either: no state dir, no output folder.
    assert not (tmp_path / ".vidpipe").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_2_with_one_line_per_problem_and_sends_nothing(
    server: Loopback, tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    board, text = write_case(tmp_path, case)
    argv = ["run", str(board), "--out", str(tmp_path / "out"), *case.args]
    result = invoke(server, argv, dict(case.env))
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    patterns = expected_lines(board, text, case.problems)
    assert len(lines) == len(patterns), lines
    for line, pattern in zip(lines, patterns, strict=True):
        assert pattern.match(line), (line, pattern.pattern)
    assert result.stdout == ""
    assert_nothing_sent(server, tmp_path)


def test_the_unedited_copy_runs_and_its_requests_are_counted(
    server: Loopback, tmp_path: Path
) -> None:
    """The cases above fail because of their edits, and a run would reach this server."""
    board, _ = write_case(tmp_path, Case((), ()))
    result = invoke(server, ["validate", str(board)])
    assert result.exit_code == 0, result.stderr
    assert server.requests == []
    result = invoke(server, ["run", str(board), "--out", str(tmp_path / "out"), "--only", "drone"])
    assert result.exit_code == 0, result.stderr
    assert "POST /apifree/v1/videos" in server.requests
    assert server.stats()["creates"]["total"] == 1


def test_every_problem_of_a_file_is_reported_at_once(server: Loopback, tmp_path: Path) -> None:
    case = Case(
        (
            ("    duration: 5\n", "    durration: 5\n"),
            ("  - id: poster\n", "  - id: Poster Shot\n"),
            ("remix: establish ", "remix: estabish "),
            ("{{ place }}, {{ light }}", "{{ plaice }}, {{ light }}"),
            ("api_key: ${NEWAPI_API_KEY:-}", "api_key: ${NEWAPI_API_KEY}"),
        ),
        (
            (None, "--var 'oops': expected NAME=VALUE"),
            ("api_key: ${NEWAPI_API_KEY}", "provider 'gateway' api_key: environment variable"),
            ("durration: 5", "unknown key 'durration' in shot 'closeup'"),
            ("remix: estabish", "shot 'night': remix target 'estabish' is not a shot id"),
            ("id: Poster Shot", "shots[3]: id 'Poster Shot' is not a slug"),
            ("{{ plaice }}", "shot 'drone': prompt: undefined variable: 'plaice'"),
        ),
        args=("--var", "oops"),
    )
    board, text = write_case(tmp_path, case)
    argv = ["run", str(board), "--out", str(tmp_path / "out"), *case.args]
    result = invoke(server, argv, {"NEWAPI_API_KEY": None})
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    patterns = expected_lines(board, text, case.problems)
    assert len(lines) == len(patterns), lines
    for pattern in patterns:
        assert any(pattern.match(line) for line in lines), (pattern.pattern, lines)
    assert_nothing_sent(server, tmp_path)


def test_request_problems_of_every_shot_and_arguments_come_together(
    server: Loopback, tmp_path: Path
) -> None:
    """Problems found against the specs, in several shots, with a bad --only and --force."""
    case = Case(
        (
            ("    template: establishing.j2\n", "    template: establishing.j2\n    size: 9x9\n"),
            ("    duration: 5\n", "    duration: 5\n    seed: 3\n"),
            ("    duration: 4\n    params: {watermark", "    duration: 99\n    params: {watermark"),
            ("model: kling-video", "model: kling-vidoe"),
        ),
        (
            ("size: 9x9", "shot 'establish': size: '9x9' is not one of"),
            (
                "seed: 3",
                "shot 'closeup': seedance-fast on anyfast (anyfast_seedance) takes no seed",
            ),
            ("duration: 99", "shot 'poster': duration: 99 is out of range"),
            ("model: kling-vidoe", "shot 'finale': api 'newapi' has no model 'kling-vidoe'"),
            (None, "--only: no shot 'nite'"),
            (None, "--force: no shot 'dron'"),
        ),
        args=("--only", "nite", "--force", "dron"),
    )
    board, text = write_case(tmp_path, case)
    result = invoke(server, ["run", str(board), "--out", str(tmp_path / "out"), *case.args])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    patterns = expected_lines(board, text, case.problems)
    assert len(lines) == len(patterns), lines
    for pattern in patterns:
        assert any(pattern.match(line) for line in lines), (pattern.pattern, lines)
    assert_nothing_sent(server, tmp_path)


@pytest.mark.parametrize("command", ["validate", "plan", "status"])
def test_other_commands_report_the_same_problems(
    server: Loopback, tmp_path: Path, command: str
) -> None:
    case = CASES["unknown-remix-target"]
    board, text = write_case(tmp_path, case)
    result = invoke(server, [command, str(board)])
    assert result.exit_code == 2
    (pattern,) = expected_lines(board, text, case.problems)
    assert len(result.stderr.splitlines()) == 1 and pattern.match(result.stderr)
    assert_nothing_sent(server, tmp_path)


def test_a_missing_storyboard_file_exits_2(server: Loopback, tmp_path: Path) -> None:
    result = invoke(server, ["run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope.yaml'}: storyboard file not found\n"
    assert server.requests == []
