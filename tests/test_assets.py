"""Named reference images: `assets: {hero: assets/hero.png}` and `image: "@hero"`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vidpipe.errors import InputError
from vidpipe.loading import load

from .images import PNG
from .test_cli import vidpipe

BOARD = """\
version: 1
name: cast
providers:
  anyfast: {api: anyfast}
defaults: {provider: anyfast, model: seedance-fast, seconds: 5}
assets:
  hero: assets/hero.png
  place: https://example.com/field.png
shots:
  - id: one
    prompt: a
    image: "@hero"
  - id: two
    prompt: b
    image: "@place"
"""


def board(tmp_path: Path, text: str = BOARD, *, hero: bool = True) -> Path:
    if hero:
        (tmp_path / "assets").mkdir(exist_ok=True)
        (tmp_path / "assets" / "hero.png").write_bytes(PNG)
    path = tmp_path / "cast.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_shot_names_an_asset_and_gets_its_image(tmp_path: Path) -> None:
    storyboard = load(board(tmp_path))
    assert storyboard.shot("one").image == tmp_path / "assets" / "hero.png"
    assert storyboard.shot("two").image == "https://example.com/field.png"
    assert set(storyboard.assets) == {"hero", "place"}


def test_defaults_may_name_an_asset(tmp_path: Path) -> None:
    text = BOARD.replace("seconds: 5}", 'seconds: 5, image: "@hero"}').replace(
        '    image: "@place"\n', ""
    )
    storyboard = load(board(tmp_path, text))
    assert storyboard.shot("two").image == tmp_path / "assets" / "hero.png"


def test_an_unknown_asset_names_the_line_and_the_closest_name(tmp_path: Path) -> None:
    path = board(tmp_path, BOARD.replace('"@hero"', '"@heor"'))
    with pytest.raises(InputError) as caught:
        load(path)
    (problem,) = caught.value.problems
    assert problem.line == 12
    assert "unknown asset 'heor'" in problem.message and "did you mean 'hero'" in problem.message


def test_an_asset_whose_file_is_missing_is_reported_at_the_asset(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load(board(tmp_path, hero=False))
    (problem,) = caught.value.problems
    assert problem.line == 7
    assert "image file not found: assets/hero.png" in problem.message


def test_an_asset_name_must_be_a_slug(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load(board(tmp_path, BOARD.replace("  hero: assets", "  Hero Shot: assets")))
    assert any(p.line == 7 and "is not a slug" in p.message for p in caught.value.problems)


def test_without_assets_a_reference_says_so(tmp_path: Path) -> None:
    text = BOARD.replace("  hero: assets/hero.png\n  place: https://example.com/field.png\n", "")
    text = text.replace("assets:\n", "")
    with pytest.raises(InputError) as caught:
        load(board(tmp_path, text))
    assert all("there is no `assets:` section" in p.message for p in caught.value.problems)
    assert len(caught.value.problems) == 2


def test_the_cli_exits_2_and_sends_nothing(tmp_path: Path) -> None:
    path = board(tmp_path, BOARD.replace('"@hero"', '"@villain"'))
    result = vidpipe("run", path, "--out", tmp_path / "out", "--job-seconds", "0")
    assert result.exit_code == 2
    assert f"{path}:12: image: unknown asset 'villain'" in result.stderr
    assert not (tmp_path / ".vidpipe").exists()
