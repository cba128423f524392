"""The `vidpipe` commands: run (exit codes, --json, --only), plan, validate, schema, status,
history, emulator and specs check-docs.

Runs use a small storyboard on the embedded emulator with tasks that finish at once;
`plan` is checked against a loopback emulator to prove it sends nothing.
"""

from __future__ import annotations

import json
import re
import string
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import stamina.instrumentation
import yaml
from click.testing import CliRunner, Result

from vidpipe import api as api_module
from vidpipe.adapters import registry
from vidpipe.cli import main
from vidpipe.specs import default_registry

from .runs import TINY_VALUES
from .specvalues import model
from .test_e2e import EXAMPLES, KEYS, ROOT, SPEC_OF, copy_example, loopback

TINY = string.Template("""\
version: 1
name: tiny
seed: 7
providers:
  free: {api: apifree}
  gateway: {api: newapi}
defaults: {provider: free, model: ${free_model}, seconds: ${free_duration}, size: ${free_size}}
vars: {hero: a red kite}
shots:
  - id: one
    prompt: "{{ hero }} over the sea"
  - id: two
    provider: gateway
    model: ${kite_model}
    size: ${kite_size}
    duration: ${kite_duration}
    prompt: "{{ hero }} at dusk"
  - id: three
    remix: one
    prompt: "the same at night"
final: {concat: [one, two, three]}
""").substitute({**TINY_VALUES, "free_model": model("apifree", prefer="wan-2")})
FAIL = "[emulator:fail]"


def tiny(tmp_path: Path, text: str = TINY) -> Path:
    board = tmp_path / "tiny.yaml"
    board.write_text(textwrap.dedent(text))
    return board


def vidpipe(*args: str | Path, env: Mapping[str, str] | None = None) -> Result:
    return CliRunner(env=dict(env or {})).invoke(
        main, [str(a) for a in args], catch_exceptions=False
    )


def run_tiny(board: Path, *args: str) -> Result:
    out = board.parent / "out"
    return vidpipe("run", board, "--out", out, "--job-seconds", "0", *args)


# -- run ---------------------------------------------------------------------------------------


def test_run_exits_0_and_says_where_everything_is(tmp_path: Path) -> None:
    result = run_tiny(tiny(tmp_path))
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "tiny"
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"tiny: 3 done in \d+\.\d s", lines[0])
    for shot in ("one", "two", "three"):
        assert f"  {shot:<5}  done     {out / shot}.mp4" in lines
    assert any(re.fullmatch(rf"  final  done     {out}/final\.mp4 \(3\.0 s\)", x) for x in lines)
    assert f"manifest: {out / 'manifest.json'}" in lines
    assert f"report:   {out / 'report.html'}" in lines
    assert (out / "final.mp4").is_file() and (out / "report.html").is_file()


def test_a_provider_failure_exits_1_while_the_other_shots_finish(tmp_path: Path) -> None:
    board = tiny(tmp_path, TINY.replace("at dusk", f"at dusk {FAIL}"))
    result = run_tiny(board)
    assert result.exit_code == 1, result.output
    out = tmp_path / "out" / "tiny"
    assert f"  one    done     {out / 'one.mp4'}" in result.stdout
    assert f"  three  done     {out / 'three.mp4'}" in result.stdout
    (failed,) = [line for line in result.stdout.splitlines() if line.startswith("  two ")]
    assert re.fullmatch(r"  two    failed   two: the provider failed task \S+: .+", failed)
    assert "  final  stale: shot two has no video" in result.stdout
    assert not (out / "final.mp4").exists()
    assert "\x1b[" not in result.output
    report = (out / "report.html").read_text()
    assert "stale: shot two has no video" in report


def test_json_prints_one_summary_with_every_shot(tmp_path: Path) -> None:
    board = tiny(tmp_path, TINY.replace("over the sea", f"over the sea {FAIL}"))
    result = run_tiny(board, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)  # stdout holds the summary and nothing else
    assert summary["ok"] is False and summary["exit_code"] == 1
    assert {s: v["status"] for s, v in summary["shots"].items()} == {
        "one": "failed",
        "two": "done",
        "three": "skipped",  # its remix source failed
    }
    assert summary["counts"] == {"failed": 1, "done": 1, "skipped": 1}
    assert summary["shots"]["one"]["task_id"] and "failed" in summary["shots"]["one"]["error"]
    assert summary["shots"]["three"]["error"] == "one did not finish"
    two = summary["shots"]["two"]
    assert Path(two["file"]).is_file() and two["provider"] == "gateway"
    final = summary["final"]
    assert final["status"] == "stale" and final["file"] is None
    assert final["error"] == "shots one, three have no video"
    manifest = json.loads(Path(summary["manifest"]).read_text())
    assert manifest["ok"] is False and manifest["final"]["status"] == "stale"
    assert manifest["shots"]["one"]["status"] == "failed"
    # Progress still goes to stderr, as plain lines.
    assert re.search(r"^\[\s*\d+\.\ds\] one\s+failed", result.stderr, re.M)


def test_only_runs_the_named_shots_and_their_remix_sources(tmp_path: Path) -> None:
    result = run_tiny(tiny(tmp_path), "--only", "three", "--json")
    # Every shot asked for is done; a final cut needing a shot never made is stale, not failed.
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert {s: v["status"] for s, v in summary["shots"].items()} == {
        "one": "done",
        "three": "done",
    }
    assert summary["final"]["status"] == "stale"
    assert summary["final"]["error"] == "shot two has no video"
    assert not (tmp_path / "out" / "tiny" / "two.mp4").exists()
    assert "two" not in result.stderr
    # The manifest still describes the whole storyboard, in its order.
    manifest = json.loads(Path(summary["manifest"]).read_text())
    assert list(manifest["shots"]) == ["one", "two", "three"]
    assert manifest["shots"]["two"]["in_run"] is False
    assert manifest["shots"]["two"]["status"] == "skipped"


def test_a_rerun_reuses_every_shot(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    first = run_tiny(board, "--json")
    again = run_tiny(board, "--json")
    assert first.exit_code == again.exit_code == 0
    before, after = json.loads(first.stdout), json.loads(again.stdout)
    assert after["counts"] == {"cached": 3}
    for shot, entry in before["shots"].items():
        assert after["shots"][shot]["sha256"] == entry["sha256"]
        assert after["shots"][shot]["task_id"] == entry["task_id"]
    assert after["final"]["sha256"] == before["final"]["sha256"]


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    result = vidpipe("run", board, "--concurrency", "0")
    assert result.exit_code == 2 and "--concurrency" in result.stderr
    assert not (tmp_path / ".vidpipe").exists()


def test_run_keeps_stamina_retry_logs_out_of_its_display(tmp_path: Path) -> None:
    stamina.instrumentation.set_on_retry_hooks(None)  # stamina's default: a logging hook
    try:
        assert stamina.instrumentation.get_on_retry_hooks()
        assert run_tiny(tiny(tmp_path)).exit_code == 0
        assert stamina.instrumentation.get_on_retry_hooks() == ()
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)


def test_an_interrupted_run_says_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(api_module, "run", interrupted)
    result = run_tiny(tiny(tmp_path))
    assert result.exit_code == 130
    message = result.stderr.strip()
    assert message.startswith("interrupted: every task already created is recorded")
    assert "run the same command again" in message and "without paying twice" in message


def test_run_options_reach_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def captured(storyboard: Any, options: Any, **kwargs: Any) -> Any:
        seen.append(options)
        raise KeyboardInterrupt

    monkeypatch.setattr(api_module, "run", captured)
    run_tiny(tiny(tmp_path), "--status-grace", "12.5", "--poll-deadline", "60")
    (options,) = seen
    assert (options.status_grace, options.poll_deadline) == (12.5, 60.0)
    assert vidpipe("run", tiny(tmp_path), "--status-grace", "-1").exit_code == 2


# -- plan, validate, status, history ----------------------------------------------------------


def test_plan_shows_what_would_be_sent_and_sends_nothing(tmp_path: Path) -> None:
    board = copy_example(tmp_path)
    with loopback() as server:
        result = vidpipe("plan", board, env=server.env(KEYS))
        as_json = vidpipe("plan", board, "--json", env=server.env(KEYS))
        assert server.requests == [] and server.stats()["creates"]["total"] == 0
    assert result.exit_code == as_json.exit_code == 0, result.output
    assert not (tmp_path / ".vidpipe").exists()
    text = result.stdout
    assert "sunflower-cat: 11 shots in 2 levels" in text and "nothing is sent" in text
    variants = (
        "hillside[take=1], hillside[take=2], portrait[model=kling-video], portrait[model=veo3]"
    )
    assert f"  level 0: establish, closeup, poster, drone, {variants}, finale\n" in text
    assert "  level 1: night (remixes establish), onward\n" in text
    *shots, quote = text.split("\n\n")[1:]
    assert quote.startswith("quote:\n") and "\ntotal: $" in quote
    blocks = {b.split()[0]: b for b in shots}
    assert list(blocks) == [
        "establish",
        "closeup",
        "poster",
        "drone",
        *variants.split(", "),
        "finale",
        "night",
        "onward",
    ]
    assert "  image:    the last frame of hillside[take=1], taken once" in blocks["onward"]
    base = server.base_url
    assert f"endpoint: POST /v1/videos on {base}/anyfast\n" in blocks["establish"]
    assert f"endpoint: POST /v1/video/generations on {base}/anyfast\n" in blocks["closeup"]
    assert f"endpoint: POST /v1/videos on {base}/apifree\n" in blocks["drone"]
    assert f"endpoint: POST /v1/videos on {base}/newapi\n" in blocks["finale"]
    assert "provider: anyfast (api anyfast, spec anyfast_happyhorse)" in blocks["poster"]
    # Rendered prompts, from inline text and from templates.
    assert (
        "prompt:   Camera slowly zooms in, a ginger cat in a blue scarf blinks, petals drift past"
        in blocks["poster"]
    )
    assert "prompt:   Close-up of a ginger cat in a blue scarf, looking curious." in text
    assert "{{" not in text
    # Resolved request fields, as the API names them.
    assert '    seconds: "4"\n    size: "1280x720"\n' in blocks["establish"]
    assert '    resolution: "720p"\n    ratio: "16:9"\n' in blocks["closeup"]
    assert '    resolution: "720P"\n' in blocks["poster"]
    assert "  remix:    of establish; its task id is sent as remix_video_id" in blocks["night"]
    assert "  seed:     none (this API takes no seed" in blocks["establish"]
    assert re.search(r"  seed:     \d+\n", blocks["finale"])
    for key in KEYS.values():
        assert key not in result.output + as_json.output

    plan = json.loads(as_json.stdout)
    assert plan["levels"] == [
        ["establish", "closeup", "poster", "drone", *variants.split(", "), "finale"],
        ["night", "onward"],
    ]
    shots = plan["shots"]
    assert {s: v["spec"] for s, v in shots.items()} == SPEC_OF
    assert shots["night"]["remix_of"] == "establish" and shots["night"]["level"] == 1
    assert shots["drone"]["endpoint"] == "POST /v1/videos"
    assert shots["drone"]["base_url"] == f"{base}/apifree"
    assert shots["drone"]["request"]["size"] == "1280x720"
    assert shots["poster"]["prompt"].startswith("Camera slowly zooms in")
    assert {s["status"] for s in plan["shots"].values()} == {"new"}


def test_plan_hides_credentials_in_a_base_url(tmp_path: Path) -> None:
    board = copy_example(tmp_path)
    env = {"NEWAPI_BASE_URL": "https://user:hunter2@gw.example/api", "NEWAPI_API_KEY": "sk-x"}
    result = vidpipe("plan", board, env=env)
    assert result.exit_code == 0, result.output
    assert "endpoint: POST /v1/videos on https://gw.example/api\n" in result.stdout
    assert "hunter2" not in result.output


def test_plan_status_and_history_after_a_run(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    assert run_tiny(board).exit_code == 0
    plan = vidpipe("plan", board, "--json")
    states = {k: s["status"] for k, s in json.loads(plan.stdout)["shots"].items()}
    assert states == {"one": "cached", "two": "cached", "three": "cached"}
    remix = json.loads(plan.stdout)["shots"]["three"]
    assert remix["endpoint"] == f"POST {default_registry()['apifree'].operation('remix').path}"
    status = vidpipe("status", board)
    assert status.exit_code == 0
    _header, *rows, _total = status.stdout.splitlines()
    assert [line.split()[:2] for line in rows] == [
        ["one", "cached"],
        ["two", "cached"],
        ["three", "cached"],
    ]
    tasks = {k: s["task_id"] for k, s in json.loads(plan.stdout)["shots"].items()}
    for line in rows:
        shot = line.split()[0]
        assert tasks[shot] and tasks[shot] in line, line
    history = vidpipe("history", board)
    assert history.exit_code == 0
    _header, run = history.stdout.splitlines()
    assert run.startswith("#1 ") and " ok " in run and "tiny" in run


def test_validate_says_ok_or_exits_2(tmp_path: Path) -> None:
    board = copy_example(tmp_path)
    ok = vidpipe("validate", board)
    assert ok.exit_code == 0 and ok.stdout == f"{board}: ok (11 shots, 3 providers)\n"
    lines = board.read_text().replace("seconds: 4", "seconds: 7").splitlines()
    board.write_text("\n".join(lines) + "\n")
    line = next(i for i, text in enumerate(lines, 1) if "seconds: 7" in text)  # in defaults
    bad = vidpipe("validate", board)
    assert bad.exit_code == 2 and bad.stdout == ""
    assert f"error: {board}:{line}: shot 'establish': seconds: '7' is not one of: 4, 8, 12" in (
        bad.stderr.splitlines()
    )


def test_a_stale_generated_client_is_refused_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = tiny(tmp_path)
    real = registry.INDEXES["newapi"]

    def regenerated_from_an_older_spec() -> Any:
        index = real()
        return type("OldIndex", (), {"SPEC": index.SPEC, "SPEC_SHA256": "0" * 64})

    monkeypatch.setitem(registry.INDEXES, "newapi", regenerated_from_an_older_spec)
    line = TINY.splitlines().index("  gateway: {api: newapi}") + 1
    for command in (("validate", board), ("run", board, "--out", tmp_path / "out")):
        result = vidpipe(*command)
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            f"error: {board}:{line}: generated client for newapi is stale: run make regen\n"
        )
    assert not (tmp_path / ".vidpipe").exists() and not (tmp_path / "out").exists()


# -- schema, emulator, specs, version ---------------------------------------------------------


def test_schema_is_a_json_schema_the_example_satisfies() -> None:
    result = vidpipe("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    example = yaml.safe_load((EXAMPLES / "storyboard.yaml").read_text())
    assert list(validator.iter_errors(example)) == []
    example["shots"][0]["durration"] = 5
    assert list(validator.iter_errors(example)) != []


def test_emulator_help() -> None:
    result = vidpipe("emulator", "--help")
    assert result.exit_code == 0
    for option in ("--port", "--host", "--job-seconds", "--faults", "--seed"):
        assert option in result.stdout


def test_help_lists_every_command() -> None:
    result = vidpipe("--help")
    assert result.exit_code == 0
    commands = ("run", "plan", "validate", "schema", "status", "history", "emulator", "specs")
    for command in (*commands, "init", "gc"):
        assert re.search(rf"^  {command}\s", result.stdout, re.M), command
    assert vidpipe("--version").stdout.startswith("vidpipe, version ")


@pytest.mark.shared
def test_check_docs_passes_on_a_matching_pair(shared_dir: Path) -> None:
    spec = ROOT / "specs" / "newapi.yaml"
    result = vidpipe("specs", "check-docs", shared_dir / "seeds" / "004_ad6492f78e3310d3.txt", spec)
    assert result.exit_code == 0, result.output
    assert result.stdout == "newapi.yaml agrees with 004_ad6492f78e3310d3.txt\n"


@pytest.mark.shared
def test_check_docs_lists_what_a_spec_lacks(shared_dir: Path, tmp_path: Path) -> None:
    spec_path = ROOT / "specs" / "anyfast_sora.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    props = spec["components"]["schemas"]["CreateVideoRequest"]["properties"]
    del props["input_reference"]
    props["seconds"]["enum"].remove("12")
    edited = tmp_path / "anyfast_sora.yaml"
    edited.write_text(yaml.safe_dump(spec, sort_keys=False))
    document = shared_dir / "seeds" / spec["x-vidpipe"]["document"]
    result = vidpipe("specs", "check-docs", document, edited)
    assert result.exit_code == 1
    lines = [line.split(": ", 1)[1] for line in result.stdout.splitlines()[:-1]]
    assert "parameter 'input_reference' added (file)" in lines
    assert "parameter 'seconds': value 12 added" in lines


def test_check_docs_on_a_missing_document_exits_2(tmp_path: Path) -> None:
    spec = ROOT / "specs" / "newapi.yaml"
    result = vidpipe("specs", "check-docs", tmp_path / "missing.txt", spec)
    assert result.exit_code == 2 and "cannot read document" in result.stderr


def test_specs_list_names_every_spec() -> None:
    result = vidpipe("specs", "list")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == sorted(set(SPEC_OF.values()))
