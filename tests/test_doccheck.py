"""`vidpipe specs check-docs`: every kind of change from a spec to its document, each way,
in the seed documents' layout and in Markdown with tables."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from vidpipe.cli import main
from vidpipe.doccheck import DocCheck, check_document
from vidpipe.providerdoc import parse_document
from vidpipe.specs import default_registry

from .reelsmith import DOCUMENT, write_spec

TEXT = DOCUMENT.read_text()


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(tmp_path_factory.mktemp("specs"))


def check(tmp_path: Path, spec: Path, text: str, name: str = "reelsmith.txt") -> DocCheck:
    document = tmp_path / name
    document.write_text(text)
    return check_document(document, spec)


def findings(result: DocCheck) -> list[str]:
    """The findings without the document's place, and without the sha256 one."""
    return [
        line.split(": ", 1)[1]
        for line in result.lines()
        if "the document changed since the spec was checked" not in line
    ]


def edited(old: str, new: str, text: str = TEXT) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_document_agrees_with_its_finished_draft(tmp_path: Path, spec: Path) -> None:
    result = check(tmp_path, spec, TEXT)
    assert result.ok and result.lines() == []


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            "look\nenum<string>",
            "watermark\nboolean\n\nAdd a watermark.\n\nlook\nenum<string>",
            "parameter 'watermark' added (boolean)",
        ),
        (
            "look\nenum<string>\ndefault:cinematic\n\nGrading preset.\n\nAvailable options:\n"
            "cinematic,\nanime,\ndocumentary\n",
            "",
            "parameter 'look' removed (string)",
        ),
    ],
    ids=["added", "removed"],
)
def test_a_parameter_added_or_removed(
    tmp_path: Path, spec: Path, old: str, new: str, found: str
) -> None:
    assert findings(check(tmp_path, spec, edited(old, new))) == [found]


@pytest.mark.parametrize(
    ("new", "found"),
    [
        ("256x144,\n640x360,\n1280x720,\n2560x1440", "value 2560x1440 added"),
        ("256x144,\n640x360", "value 1280x720 removed"),
    ],
    ids=["added", "removed"],
)
def test_an_enum_value_added_or_removed(tmp_path: Path, spec: Path, new: str, found: str) -> None:
    text = edited("256x144,\n640x360,\n1280x720", new)
    assert findings(check(tmp_path, spec, text)) == [f"parameter 'frame': {found}"]


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            "length_s\ninteger",
            "length_s\ninteger / string",
            "'length_s': type widened from integer to integer/string",
        ),
        ("scene\nstring", "scene\ninteger", "'scene': type changed from string to integer"),
    ],
    ids=["widened", "changed"],
)
def test_a_type_change(tmp_path: Path, spec: Path, old: str, new: str, found: str) -> None:
    assert findings(check(tmp_path, spec, edited(old, new))) == [f"parameter {found}"]


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            "noise_seed\ninteger\n",
            "noise_seed\ninteger\nrequired\n",
            "'noise_seed' is now required",
        ),
        ("scene\nstring\nrequired\n", "scene\nstring\n", "'scene' is no longer required"),
    ],
    ids=["now-required", "now-optional"],
)
def test_required_and_optional(tmp_path: Path, spec: Path, old: str, new: str, found: str) -> None:
    assert findings(check(tmp_path, spec, edited(old, new))) == [f"parameter {found}"]


@pytest.mark.parametrize(
    ("new", "found"),
    [("1 <= x <= 4", "narrowed from 1..8 to 1..4"), ("1 <= x <= 12", "widened from 1..8 to 1..12")],
    ids=["narrowed", "widened"],
)
def test_a_range_change(tmp_path: Path, spec: Path, new: str, found: str) -> None:
    text = edited("Required range: 1 <= x <= 8", f"Required range: {new}")
    assert findings(check(tmp_path, spec, text)) == [f"parameter 'length_s': range {found}"]


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            "created_at\ninteger\n\nUnix timestamp",
            "created_at\ninteger\n\nUnix timestamp\n\nfinished_at\ninteger\n\nWhen it finished",
            "response field 'finished_at' added (integer)",
        ),
        ("progress\ninteger\nExample:\n\n0\n\n", "", "response field 'progress' removed (integer)"),
    ],
    ids=["added", "removed"],
)
def test_a_response_field_added_or_removed(
    tmp_path: Path, spec: Path, old: str, new: str, found: str
) -> None:
    assert findings(check(tmp_path, spec, edited(old, new))) == [found]


def test_a_status_word_added_is_reported_and_unmapped(tmp_path: Path, spec: Path) -> None:
    result = check(tmp_path, spec, edited("DONE,\nBROKEN", "DONE,\nBROKEN,\nCANCELLED"))
    assert findings(result) == [
        "response field 'status': status word CANCELLED added",
        "status word 'CANCELLED' is not in x-vidpipe-status of reelsmith.yaml: map it to "
        "queued, running, succeeded or failed",
    ]
    assert result.unmapped == ["CANCELLED"]


def test_a_status_word_removed(tmp_path: Path, spec: Path) -> None:
    result = check(tmp_path, spec, edited("DONE,\nBROKEN", "DONE"))
    assert findings(result) == ["response field 'status': status word BROKEN removed"]


def test_a_changed_document_is_reported_by_its_sha256(tmp_path: Path, spec: Path) -> None:
    """Nothing the check reads changed, but the document did: it must be looked at again."""
    result = check(tmp_path, spec, TEXT + "\nSee also: the changelog.\n")
    assert not result.ok and findings(result) == []
    (line,) = result.lines()
    digest = hashlib.sha256((TEXT + "\nSee also: the changelog.\n").encode()).hexdigest()
    assert f"its sha256 is {digest}, the spec records" in line
    assert "the document changed since the spec was checked" in line


# -- Markdown headings and tables ------------------------------------------------------------

MARKDOWN = """\
# Render a Reel

`POST /v1/videos` on https://api.reelsmith.example, `Content-Type: multipart/form-data`.

## Request body

| Name | Type | Required | Values | Description |
|---|---|---|---|---|
| model | enum<string> | yes | reel-1, reel-1-turbo | Which Reelsmith renderer to use. |
| scene | string | yes | | What the reel shows. |
| length_s | integer | no | | Reel length in whole seconds. Required range: 1 <= x <= 8 |
| frame | string | no | `256x144`, `640x360`, `1280x720` | Frame size. |
| still | file | no | | An image the reel opens on. |
| noise_seed | integer | no | | Seed. Required range: 0 <= x <= 99999 |
| look | string | no | | Grading preset. One of: `cinematic`, `anime`, `documentary`. |

## Response

| Field | Type | Required | Description |
|---|---|---|---|
| id | string | yes | Reel task ID |
| object | string | | |
| model | string | | |
| status | string | yes | Available options: WAITING, RENDERING, DONE, BROKEN |
| progress | integer | | |
| created_at | integer | | Unix timestamp |

## Errors

| Name | Type | Description |
|---|---|---|
| message | string | What went wrong. |
"""


def test_markdown_headings_and_tables_are_read_as_the_seed_layout_is(tmp_path: Path) -> None:
    markdown = tmp_path / "reelsmith.md"
    markdown.write_text(MARKDOWN)
    table, blocks = parse_document(markdown), parse_document(DOCUMENT)
    assert set(table.request) == set(blocks.request)
    assert set(table.response) == set(blocks.response)
    for name, field in blocks.request.items():
        other = table.request[name]
        assert (other.types, other.required, other.enum) == (
            field.types,
            field.required,
            field.enum,
        )
        assert (other.minimum, other.maximum) == (field.minimum, field.maximum)
    assert table.response["status"].enum == blocks.response["status"].enum
    assert (table.method, table.route, table.content_type) == (
        "POST",
        "/v1/videos",
        "multipart/form-data",
    )


def test_a_change_in_a_table_cell_is_reported(tmp_path: Path, spec: Path) -> None:
    text = MARKDOWN.replace("`640x360`, `1280x720`", "`640x360`").replace(
        "| no | | Seed.", "| yes | | Seed."
    )
    assert findings(check(tmp_path, spec, text, "reelsmith.md")) == [
        "parameter 'frame': value 1280x720 removed",
        "parameter 'noise_seed' is now required",
    ]


# -- the command -----------------------------------------------------------------------------


def vidpipe(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def test_check_docs_exits_0_when_they_agree_and_1_when_they_differ(
    tmp_path: Path, spec: Path
) -> None:
    code, output = vidpipe("specs", "check-docs", DOCUMENT, spec)
    assert (code, output) == (0, "reelsmith.yaml agrees with reelsmith.txt\n")
    changed = tmp_path / "reelsmith.txt"
    changed.write_text(edited("256x144,\n640x360,\n1280x720", "256x144,\n640x360"))
    code, output = vidpipe("specs", "check-docs", changed, spec)
    assert code == 1
    assert re.search(
        r"^reelsmith\.txt:\d+: parameter 'frame': value 1280x720 removed$", output, re.M
    )
    assert output.endswith("reelsmith.yaml differs from reelsmith.txt\n")


def test_check_docs_all_names_each_spec_whose_document_is_missing(
    tmp_path: Path, spec: Path
) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "reelsmith.txt").write_text(TEXT)
    code, output = vidpipe("specs", "check-docs", "--specs", spec.parent, "--all", documents)
    assert code == 2
    assert "anyfast_sora.yaml: its document 000_2a92ba406153e175.txt is not in" in output
    assert "reelsmith" not in output


@pytest.mark.shared
def test_check_docs_all_checks_the_shipped_and_the_users_specs(
    tmp_path: Path, spec: Path, shared_dir: Path
) -> None:
    documents = tmp_path / "documents"
    shutil.copytree(shared_dir / "seeds", documents)
    (documents / "reelsmith.txt").write_text(TEXT)
    code, output = vidpipe("specs", "check-docs", "--all", documents, "--specs", spec.parent)
    assert code == 0, output
    assert output.count(" agrees with ") == len(default_registry().specs) + 1
    (documents / "reelsmith.txt").write_text(edited("DONE,\nBROKEN", "DONE"))
    code, output = vidpipe("specs", "check-docs", "--all", documents, "--specs", spec.parent)
    assert code == 1 and "reelsmith.yaml differs from reelsmith.txt" in output


@pytest.mark.shared
def test_check_docs_all_reads_the_shared_documents_by_default(shared_dir: Path) -> None:
    """With no DIR, ../shared/seeds beside the project (the fixture skips where it is not)."""
    code, output = vidpipe("specs", "check-docs", "--all")
    assert code == 0, output
    assert output.count(" agrees with ") == len(default_registry().specs)


def test_check_docs_needs_a_pair_or_all(spec: Path) -> None:
    assert vidpipe("specs", "check-docs", DOCUMENT)[0] == 2
    assert vidpipe("specs", "check-docs", DOCUMENT, spec, "--all")[0] == 2
    code, output = vidpipe("specs", "check-docs", DOCUMENT, spec.parent / "missing.yaml")
    assert code == 2 and "no such spec file" in output
