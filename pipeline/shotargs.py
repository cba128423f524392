"""Shot ids on the command line (`--only`, `--force`): three spellings, one meaning.

    vidpipe run board.yaml --only storm beam
    vidpipe run board.yaml --only storm --only beam
    vidpipe run board.yaml --only storm,beam

click takes one value each time an option appears. `ShotListCommand` lets one flag take
several ids by repeating the flag before each further id, then lets click parse as usual;
`split_ids` splits the commas. Only words that can be shot ids (slugs, or slugs joined by
commas) are taken after the flag's own value: an option, `--`, a word that is not a slug
(`board.yaml`) or the name of an existing file ends the list. Whether each id names a
shot is checked later against the storyboard, with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import click

__all__ = ["ShotListCommand", "split_ids", "spread_ids"]


def _is_id_list(word: str) -> bool:
    from .loading.schema import SLUG

    parts = word.split(",")
    return all(SLUG.fullmatch(p) for p in parts) and not Path(word).is_file()


def spread_ids(args: Sequence[str], flags: Collection[str]) -> list[str]:
    """`args` with `FLAG a b` rewritten as `FLAG a FLAG b` for each of `flags`."""
    out: list[str] = []
    flag: str | None = None  # the flag whose ids are being read
    takes_value = False  # the next word is the flag's own value, whatever it looks like
    for index, arg in enumerate(args):
        if takes_value:
            out.append(arg)
            takes_value = False
            continue
        if arg == "--":
            out.extend(args[index:])
            break
        if flag is not None and _is_id_list(arg):
            out += [flag, arg]
            continue
        flag = None
        out.append(arg)
        name, equals, _ = arg.partition("=")
        if name in flags:
            flag = name
            takes_value = not equals
    return out


class ShotListCommand(click.Command):
    """A command whose multiple options named in `id_lists` take several ids per flag."""

    id_lists: tuple[str, ...] = ("--only", "--force")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_ids(args, self.id_lists))


def split_ids(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> tuple[str, ...]:
    """A click callback: every id of every occurrence, commas split, each id once."""
    ids: list[str] = []
    for value in values:
        for part in value.split(","):
            shot_id = part.strip()
            if not shot_id:
                raise click.BadParameter(f"empty shot id in {value!r}", ctx=ctx, param=param)
            if shot_id not in ids:
                ids.append(shot_id)
    return tuple(ids)
