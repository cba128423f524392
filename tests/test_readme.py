"""The README documents what exists: every command `vidpipe --help` lists, every prompt
filter, and filter examples that render as it says they do."""

from __future__ import annotations

import re
from pathlib import Path

from vidpipe.templating import FILTERS, build_context, make_environment, render_prompt

from .test_cli import vidpipe

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    following = re.compile(r"\n##+ ").search(README, start + 1)  # the next heading, any depth
    return README[start : following.start() if following else None]


def _table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
            rows.append([c.strip().replace("\\|", "|") for c in cells])
    return rows[1:]  # without the header


def test_the_commands_table_lists_every_command() -> None:
    listed = {row[0].strip("`").split()[1] for row in _table_rows(_section("Commands"))}
    shown = vidpipe("--help").stdout.split("Commands:")[1]
    commands = {line.split()[0] for line in shown.splitlines() if line.startswith("  ")}
    assert commands <= listed, commands - listed
    history = vidpipe("history", "--help").stdout
    assert "show" in history and "`vidpipe history show RUN" in _section("Commands")


def test_every_prompt_filter_is_documented_and_its_examples_render_as_shown(
    tmp_path: Path,
) -> None:
    rows = _table_rows(_section("Prompt templates"))
    documented = {row[0].strip("`").split("(")[0] for row in rows}
    assert documented == set(FILTERS)
    env = make_environment(tmp_path)
    context = build_context(storyboard={"seed": 1}, shot={"id": "a"}, variables={})
    checked = 0
    for row in rows:
        example = row[2]
        if "→" not in example:
            continue
        template, expected = (part.strip().strip("`") for part in example.split("→"))
        rendered = render_prompt(env, context=context, file="README.md", line=None, prompt=template)
        assert rendered == expected, row
        checked += 1
    assert checked >= 3
