"""Cost before paying: the prices in force and their overrides, the quote `plan` shows, a
budget that sends nothing when the quote is over it and stops a run at it, reservations
that survive a SIGKILL, and recorded spend equal to what the gateway billed.

The storyboards here use happyhorse-1.0-i2v on anyfast: its spec prices it (by resolution)
and its new-api envelopes report `quota`, which the emulator bills from the same table.
"""

from __future__ import annotations

import hashlib
import json
import signal
import textwrap
from pathlib import Path
from typing import Any

import pytest

from vidpipe.errors import BudgetReached, OverBudget
from vidpipe.history import RunView
from vidpipe.ledger import Ledger, ShotRecord
from vidpipe.loading import load
from vidpipe.pricing import QUOTA_PER_USD
from vidpipe.states import ShotState

from .images import image_bytes
from .runs import (
    InProcess,
    LedgerWatch,
    kill,
    run_board,
    running,
    server,
    spawn,
    vidpipe,
    wait_until,
)
from .test_cli import vidpipe as cli

MODEL = "happyhorse-1.0-i2v"
#: The spec's price of a 3 s 720P shot of MODEL: 3 s x $0.16/s.
SPEC_USD = 0.48
#: SPEC_USD in new-api quota units, as the emulator bills it.
QUOTA = 240_000
#: What the storyboard's own price says that shot costs: 3 s x $0.10/s.
LOW_USD = 0.30

BOARD = """\
version: 1
name: hh
seed: 3
providers:
  anyfast:
    api: anyfast
    base_url: ${{ANYFAST_BASE_URL:-embedded}}
    api_key: ${{ANYFAST_API_KEY:-test-key}}
{prices}defaults: {{provider: anyfast, model: {model}, duration: 3, resolution: 720P, image: first.png}}
shots:
  - {{id: a, prompt: "a kite"}}
  - {{id: b, prompt: "a field"}}
  - {{id: c, prompt: "a beach{fail}"}}
"""
LOW_PRICE = """\
    prices:
      happyhorse-1.0-i2v: {per: second, usd: 0.10, source: my reseller's invoice, date: 2026-12-01}
"""


def board(folder: Path, *, prices: str = "", fail: str = "", model: str = MODEL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "first.png").write_bytes(image_bytes())
    path = folder / "hh.yaml"
    path.write_text(BOARD.format(prices=prices, fail=fail, model=model))
    return path


def spends(state: Path) -> dict[str, float | None]:
    with Ledger.open(state) as ledger:
        rows = [s for r in ledger.runs(limit=100) for s in ledger.shots_for_run(r.id)]
        return {s.shot_id: s.spend_usd for s in rows}


# -- the prices in force ------------------------------------------------------------------


def _estimates(path: Path, *args: str) -> dict[str, Any]:
    result = cli("plan", path, "--json", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_plan_quotes_each_shot_and_the_total_from_the_spec(tmp_path: Path) -> None:
    doc = _estimates(board(tmp_path))
    for shot in doc["shots"].values():
        cost = shot["cost"]
        assert cost["estimate_usd"] == SPEC_USD and cost["pays"] and cost["free"] is None
        assert cost["estimate"]["origin"] == "spec anyfast_happyhorse"
        assert cost["estimate"]["source"] and cost["estimate"]["date"]
    assert doc["cost"] == {
        "total_usd": 1.44,
        "complete": True,
        "unpriced": [],
        "free": [],
        "held_usd": 0.0,
    }
    text = cli("plan", board(tmp_path)).stdout
    assert "total: $1.44 for 3 creates" in text


def test_overrides_win_over_the_spec_the_most_specific_first(tmp_path: Path) -> None:
    (tmp_path / "prices.yaml").write_text(
        f"{MODEL}: {{per: video, usd: 2.5, source: a prices file}}\n"
    )
    (tmp_path / "cli-prices.yaml").write_text(
        f"{MODEL}:\n  per: second\n  tiers: [{{when: {{resolution: 720p}}, usd: 1}}]\n"
        "  source: the command line\n"
    )
    path = board(tmp_path, prices=LOW_PRICE)
    assert _estimates(path)["cost"]["total_usd"] == 0.9  # provider over spec
    text = path.read_text().replace("version: 1\n", "version: 1\nprices: prices.yaml\n")
    path.write_text(text)
    first = _estimates(path)["shots"]["a"]["cost"]["estimate"]
    assert (first["usd"], first["source"]) == (LOW_USD, "my reseller's invoice")  # provider wins
    path.write_text(text.replace(LOW_PRICE, ""))
    first = _estimates(path)["shots"]["a"]["cost"]["estimate"]
    assert (first["usd"], first["per"]) == (2.5, "video")  # the file over the spec
    first = _estimates(path, "--prices", str(tmp_path / "cli-prices.yaml"))["shots"]["a"]
    assert first["cost"]["estimate"]["usd"] == 3.0  # --prices over everything


def test_an_unknown_price_is_unknown_not_zero(tmp_path: Path) -> None:
    path = board(tmp_path)
    path.write_text(path.read_text().replace("resolution: 720P", "resolution: 1080P"))
    assert _estimates(path)["cost"]["total_usd"] == 2.61  # the 1080p tier
    seedance = tmp_path / "sd.yaml"
    seedance.write_text(
        textwrap.dedent("""\
            version: 1
            name: sd
            providers: {anyfast: {api: anyfast}}
            defaults: {provider: anyfast, model: seedance-fast, duration: 5}
            shots: [{id: a, prompt: x}]
            """)
    )
    doc = _estimates(seedance)
    assert doc["shots"]["a"]["cost"]["estimate_usd"] is None
    assert doc["cost"] == {**doc["cost"], "total_usd": 0.0, "complete": False, "unpriced": ["a"]}
    assert "$0.00 for 1 create + 1 unpriced (a)" in cli("plan", seedance).stdout


@pytest.mark.parametrize(
    ("prices", "file_text", "where", "words"),
    [
        (
            "    prices:\n      happyhorse-1.0-i2v: {per: minute, usd: 1, source: s}\n",
            None,
            "hh.yaml:10",
            "per",
        ),
        (
            "    prices:\n      happyhorse-1.0-i2v:\n        per: second\n        source: s\n",
            None,
            "hh.yaml:10",
            "usd, or tiers",
        ),
        ("", "ok-model: {per: video, usd: 1, source: s}\nbad: {per: video, usd: -1}\n", "2", "usd"),
    ],
)
def test_bad_price_input_is_exit_2_at_its_file_and_line(
    tmp_path: Path, prices: str, file_text: str | None, where: str, words: str
) -> None:
    path = board(tmp_path, prices=prices)
    if file_text is not None:
        (tmp_path / "p.yaml").write_text(file_text)
        path.write_text(path.read_text().replace("version: 1\n", "version: 1\nprices: p.yaml\n"))
        where = f"{tmp_path / 'p.yaml'}:{where}"
    for command in ("plan", "run", "validate"):
        result = cli(command, path)
        assert result.exit_code == 2, result.output
        assert f"{where}: " in result.stderr and words in result.stderr, result.stderr
    assert not (tmp_path / ".vidpipe" / "ledger.sqlite3").exists()  # nothing was sent


def test_a_bad_prices_option_is_exit_2_at_its_line(tmp_path: Path) -> None:
    path = board(tmp_path)
    bad = tmp_path / "cli.yaml"
    bad.write_text(f"{MODEL}:\n  per: second\n  usd: 0.1\n  sorce: typo\n")
    result = cli("run", path, "--prices", bad, "--budget", "5")
    assert result.exit_code == 2 and f"{bad}:4: " in result.stderr, result.stderr
    missing = cli("plan", path, "--prices", tmp_path / "none.yaml")
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_the_schema_accepts_the_new_keys(tmp_path: Path) -> None:
    path = board(tmp_path, prices=LOW_PRICE)
    (tmp_path / "p.yaml").write_text("{}\n")
    path.write_text(
        path.read_text().replace("version: 1\n", "version: 1\nprices: p.yaml\nbudget: {usd: 2}\n")
    )
    storyboard = load(path)
    assert storyboard.budget == 2.0
    assert storyboard.providers["anyfast"].prices[MODEL].usd == 0.10
    path.write_text(path.read_text().replace("budget: {usd: 2}", "budget: {dollars: 2}"))
    result = cli("validate", path)
    assert result.exit_code == 2 and "hh.yaml:3: unknown key 'dollars'" in result.stderr


# -- the budget -----------------------------------------------------------------------------


def test_a_run_over_budget_sends_no_create(tmp_path: Path) -> None:
    path = board(tmp_path)
    emulator = InProcess.start()
    with pytest.raises(OverBudget) as refused:
        run_board(path, emulator, tmp_path, budget=1.0)
    assert "$1.44 for 3 creates" in str(refused.value) and "$1.00" in str(refused.value)
    assert emulator.stats()["creates"]["total"] == 0
    # The storyboard's own budget, and the command line's.
    path.write_text(path.read_text().replace("seed: 3\n", "seed: 3\nbudget: {usd: 1}\n"))
    with pytest.raises(OverBudget):
        run_board(path, emulator, tmp_path)
    assert emulator.stats()["creates"]["total"] == 0
    out, state = tmp_path / "out", tmp_path / "state"
    result = cli(
        "run", path, "--out", out, "--state", state, "--job-seconds", "0", "--budget", "1.4"
    )
    assert result.exit_code == 2, result.output
    assert "over the budget of $1.40; nothing was sent" in result.stderr
    assert "  a         $0.48  3 s x $0.16/s (resolution=720p)" in result.stderr
    with Ledger.open(state) as ledger:
        assert ledger.is_empty()
        assert [r.status for r in ledger.runs()] == ["refused"] * 3
    # History keeps the quote a refused run was refused for.
    shown = cli("history", "--state", state)
    assert shown.exit_code == 0, shown.output
    refused_row = shown.stdout.splitlines()[1]
    assert "refused" in refused_row and "$1.44 quoted" in refused_row, shown.stdout
    one = cli("history", "show", "3", "--state", state)
    assert "cost:       $1.44 quoted against a budget of $1.40; nothing was sent" in one.stdout
    assert run_board(path, emulator, tmp_path, budget=1.44).ok  # the quote fits exactly


def test_unknown_prices_block_a_budgeted_run_unless_allowed(tmp_path: Path) -> None:
    path = board(tmp_path, model="seedance-fast")
    path.write_text(
        path.read_text().replace(", resolution: 720P, image: first.png", ", resolution: 720p")
    )
    emulator = InProcess.start()
    with pytest.raises(OverBudget, match="a, b, c have none known"):
        run_board(path, emulator, tmp_path, budget=100.0)
    assert emulator.stats()["creates"]["total"] == 0
    result = run_board(path, emulator, tmp_path, budget=100.0, allow_unpriced=True)
    assert result.ok and emulator.stats()["creates"]["total"] == 3
    assert result.cost == {
        "estimate_usd": 0.0,
        "spend_usd": 0.0,
        "unpriced": 3,
        "spend_unreported": 3,
    }


def test_recorded_spend_equals_what_the_emulator_billed(tmp_path: Path) -> None:
    path = board(tmp_path, fail=" [emulator:fail]")
    emulator = InProcess.start()
    result = run_board(path, emulator, tmp_path, budget=5.0)
    assert [s.status for s in result.shots.values()] == ["done", "done", "failed"]
    assert "(the gateway charged $0.48 for it)" in str(result["c"].error)
    billing = emulator.stats()["billing"]
    assert billing["quota"] == 3 * QUOTA
    # Every task, the failed one too, is recorded with what it was charged.
    recorded = spends(tmp_path / "state")
    assert recorded == {"a": SPEC_USD, "b": SPEC_USD, "c": SPEC_USD}
    assert round(sum(v or 0 for v in recorded.values()) * QUOTA_PER_USD) == billing["quota"]
    with Ledger.open(tmp_path / "state") as ledger:
        by_task = {r.task_id: r.spend_usd for r in _rows(ledger)}
    assert {t: q / QUOTA_PER_USD for t, q in billing["by_task"].items()} == by_task
    assert result.cost == {
        "estimate_usd": 1.44,
        "spend_usd": 1.44,
        "unpriced": 0,
        "spend_unreported": 0,
    }
    doc = json.loads((tmp_path / "out" / "hh" / "manifest.json").read_text())
    assert doc["shots"]["c"]["cost"] == {"estimate_usd": SPEC_USD, "spend_usd": SPEC_USD}
    assert doc["cost"]["spend_usd"] == 1.44
    report = (tmp_path / "out" / "hh" / "report.html").read_text()
    assert report.count("estimate $0.48<br>spend $0.48") == 3
    # A rerun reuses a and b (they cost nothing) and makes c again, which is billed again.
    path.write_text(path.read_text().replace(" [emulator:fail]", ""))
    again = run_board(path, emulator, tmp_path, budget=5.0)
    assert [s.status for s in again.shots.values()] == ["cached", "cached", "done"]
    assert again["a"].spend_usd == 0.0 and again.cost["spend_usd"] == SPEC_USD
    assert emulator.stats()["billing"]["quota"] == 4 * QUOTA
    cached = run_board(path, emulator, tmp_path, budget=0.0)  # all cached: nothing to pay
    assert cached.ok and cached.cost["spend_usd"] == 0.0
    assert emulator.stats()["billing"]["quota"] == 4 * QUOTA


def _rows(ledger: Ledger) -> list[ShotRecord]:
    return [s for r in ledger.runs(limit=100) for s in ledger.shots_for_run(r.id)]


def test_a_run_stops_submitting_at_the_budget(tmp_path: Path) -> None:
    # The storyboard says $0.10/s, the gateway bills $0.16/s: the quote ($0.90) fits the
    # budget, the charges do not. Each create reserves its estimate; a reported charge
    # replaces it, so the third create would pass $1.00 and is not sent.
    path = board(tmp_path, prices=LOW_PRICE)
    emulator = InProcess.start()
    result = run_board(path, emulator, tmp_path, budget=1.0, concurrency=1)
    assert {s: r.status for s, r in result.shots.items()} == {
        "a": "done",
        "b": "done",
        "c": ShotState.OVER_BUDGET,
    }
    assert result.exit_code == 1
    assert "budget of $1.00" in str(result["c"].error)
    stats = emulator.stats()
    assert stats["creates"]["total"] == 2
    assert stats["billing"]["quota"] / QUOTA_PER_USD == 0.96 <= 1.0
    assert result.cost["estimate_usd"] == 0.6 and result.cost["spend_usd"] == 0.96
    summary = json.loads(cli("history", "--state", tmp_path / "state", "--json").stdout)
    assert summary["runs"][0]["counts"] == {"done": 2, "over-budget": 1}
    assert summary["runs"][0]["cost"]["spend_usd"] == 0.96
    # The run ended: its reservations are settled, so the next run has its own budget.
    with Ledger.open(tmp_path / "state") as ledger:
        assert ledger.open_reservations("hh") == []
    rest = run_board(path, emulator, tmp_path, budget=0.5, concurrency=1)
    assert rest["c"].status == "done" and emulator.stats()["creates"]["total"] == 3


@pytest.mark.e2e
def test_reservations_survive_a_sigkill_and_the_resumed_run_keeps_the_budget(
    tmp_path: Path,
) -> None:
    path = board(tmp_path / "board", prices=LOW_PRICE)
    state, out = tmp_path / "state", tmp_path / "out"
    args = ["run", str(path), "--out", str(out), "--state", str(state)]
    args += ["--budget", "1.1", "--concurrency", "1", "--json"]
    with server(job_seconds=3.0) as srv:
        proc = spawn(args, srv.env())
        with running(proc), LedgerWatch(state) as watch:

            def charged() -> bool:
                rows = {s.shot_id: s for s in watch.shots()}
                return "a" in rows and rows["a"].spend_usd is not None

            wait_until(charged, proc=proc, what="a's task and its charge", timeout=30)
            kill(proc)
            assert proc.returncode == -signal.SIGKILL
        with Ledger.open(state) as ledger:
            held = ledger.open_reservations("hh")
        assert [(r.shot_id, r.usd) for r in held] == [("a", SPEC_USD)]
        # Resumed: the quote is $0.60 for b and c plus $0.48 held by a; b fits, then c
        # would pass $1.10 ($0.96 charged + $0.30). A resume that forgot a's
        # reservation would send c too and spend $1.44.
        done = vidpipe(args, srv.env())
        assert done.returncode == 1, done.stderr
        summary = json.loads(done.stdout)
        assert {s: v["status"] for s, v in summary["shots"].items()} == {
            "a": "done",
            "b": "done",
            "c": "over-budget",
        }
        stats = srv.stats()
        assert stats["creates"]["total"] == 2  # a was re-attached, not created again
        assert stats["billing"]["quota"] / QUOTA_PER_USD == 0.96 <= 1.1
        assert spends(state) == {"a": SPEC_USD, "b": SPEC_USD}
    with Ledger.open(state) as ledger:
        assert ledger.open_reservations("hh") == []
        runs = [RunView(r) for r in ledger.runs()]
    assert [r.record.status for r in runs] == ["failed", "interrupted"]
    # Each create is counted once, in the run that sent it: a in the killed run (its
    # summary written from the ledger), b in the resumed one, which re-attached to a.
    resumed, killed = runs
    assert killed.counts is not None and killed.cost is not None
    assert [s["id"] for s in killed.shots] == ["a"] and killed.cost["spend_usd"] == SPEC_USD
    assert resumed.cost is not None and resumed.cost["spend_usd"] == SPEC_USD
    assert resumed.cost["estimate_usd"] == killed.cost["estimate_usd"] == 0.3  # LOW_PRICE
    assert killed.cost["spend_usd"] + resumed.cost["spend_usd"] == 0.96  # what was billed


# -- the ledger's reservations --------------------------------------------------------------


def _intent(ledger: Ledger, run_id: int, shot_id: str, usd: float, budget: float) -> None:
    ledger.record_intent(
        run_id=run_id,
        shot_id=shot_id,
        fingerprint=hashlib.sha256(shot_id.encode()).hexdigest(),
        api="anyfast",
        model=MODEL,
        request={"prompt": shot_id},
        estimate_usd=usd,
        budget=("hh", budget),
    )


def test_a_reservation_is_written_with_its_intent_or_not_at_all(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        run_id = ledger.start_run("hh.yaml", "hh", ["vidpipe"])
        _intent(ledger, run_id, "a", 0.6, 1.0)
        with pytest.raises(BudgetReached) as reached:
            _intent(ledger, run_id, "b", 0.5, 1.0)
        assert (reached.value.reserved, reached.value.budget) == (0.6, 1.0)
        b = hashlib.sha256(b"b").hexdigest()
        assert ledger.lookup(b) is None  # no intent either: the create is not sent
        a = hashlib.sha256(b"a").hexdigest()
        record = ledger.lookup(a)
        assert record is not None and record.estimate_usd == 0.6
        ledger.record_spend(a, 0.3)  # the gateway charged less than estimated
        _intent(ledger, run_id, "b", 0.5, 1.0)
        assert [(r.shot_id, r.usd) for r in ledger.open_reservations("hh")] == [
            ("a", 0.3),
            ("b", 0.5),
        ]
        ledger.release(b)  # refused by the provider: nothing charged
        assert [r.shot_id for r in ledger.open_reservations("hh")] == ["a"]
        assert ledger.open_reservations("other") == []
        ledger.close_reservations("hh")
        assert ledger.open_reservations("hh") == []
        _intent(ledger, run_id, "c", 1.0, 1.0)  # a new run's budget starts empty
