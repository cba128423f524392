"""`.env` next to the storyboard is read for `${VAR}`; the process environment wins; what it
holds never reaches a message, the manifest, the ledger or the report."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import TINY, run_tiny, tiny, vidpipe

KEY = "sk-dotenv-7c41a9e2f0"
# A provider whose key has no default: without a value the storyboard is refused.
BOARD = TINY.replace(
    "  free: {api: apifree}",
    "  free: {api: apifree, base_url: '${FREE_URL:-embedded}', api_key: '${FREE_KEY}'}",
)


def test_a_key_from_dotenv_is_used_and_never_written_anywhere(tmp_path: Path) -> None:
    board = tiny(tmp_path, BOARD)
    refused = vidpipe("validate", board)
    assert refused.exit_code == 2
    assert "environment variable FREE_KEY is not set" in refused.stderr

    (tmp_path / ".env").write_text(f"# keys\nexport FREE_KEY={KEY}\n")
    assert vidpipe("validate", board).exit_code == 0
    result = run_tiny(board)
    assert result.exit_code == 0, result.output
    assert KEY not in result.output
    for name in ("status", "plan", "history"):
        assert KEY not in vidpipe(name, board).output
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != ".env"]
    assert {"ledger.sqlite3", "manifest.json", "report.html"} <= {p.name for p in written}
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path


def test_the_process_environment_wins_over_dotenv(tmp_path: Path) -> None:
    board = tiny(tmp_path, BOARD)
    (tmp_path / ".env").write_text("FREE_URL=https://dotenv.example/v1\nFREE_KEY='from-the-file'\n")

    def base_url(env: dict[str, str]) -> str:
        result = vidpipe("plan", board, "--json", env=env)
        assert result.exit_code == 0, result.output
        return str(json.loads(result.stdout)["shots"]["one"]["base_url"])

    assert base_url({}) == "https://dotenv.example/v1"
    assert base_url({"FREE_URL": "https://env.example/v1"}) == "https://env.example/v1"


def test_a_line_of_dotenv_that_cannot_be_read_is_exit_2_without_its_text(tmp_path: Path) -> None:
    board = tiny(tmp_path, BOARD)
    env = tmp_path / ".env"
    env.write_text(f"FREE_KEY=x\nFREE_KEY {KEY}\n")
    result = vidpipe("validate", board)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: {env}:2: expected NAME=value (the line is not shown: it may hold a key)\n"
    )
    assert KEY not in result.output
