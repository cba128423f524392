"""Every generated client's index, typed as a `ClientIndex` of its own classes.

Written by `make regen` from specs/; never edit it by hand. An index is imported when it is
first asked for. mypy checks each one against `ClientIndex` here, so `make typecheck` fails
on a generated client the adapters cannot drive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .contract import AnyIndex, ClientIndex

__all__ = ["INDEXES"]


def _anyfast_happyhorse() -> AnyIndex:
    from ..generated.anyfast_happyhorse import index

    checked: ClientIndex[
        index.AuthenticatedClient, index.CreateBody, index.RemixBody, index.Answer
    ] = index
    return checked


def _anyfast_seedance() -> AnyIndex:
    from ..generated.anyfast_seedance import index

    checked: ClientIndex[
        index.AuthenticatedClient, index.CreateBody, index.RemixBody, index.Answer
    ] = index
    return checked


def _anyfast_sora() -> AnyIndex:
    from ..generated.anyfast_sora import index

    checked: ClientIndex[
        index.AuthenticatedClient, index.CreateBody, index.RemixBody, index.Answer
    ] = index
    return checked


def _apifree() -> AnyIndex:
    from ..generated.apifree import index

    checked: ClientIndex[
        index.AuthenticatedClient, index.CreateBody, index.RemixBody, index.Answer
    ] = index
    return checked


def _newapi() -> AnyIndex:
    from ..generated.newapi import index

    checked: ClientIndex[
        index.AuthenticatedClient, index.CreateBody, index.RemixBody, index.Answer
    ] = index
    return checked


#: Spec name -> the loader of its generated client's index.
INDEXES: Mapping[str, Callable[[], AnyIndex]] = {
    "anyfast_happyhorse": _anyfast_happyhorse,
    "anyfast_seedance": _anyfast_seedance,
    "anyfast_sora": _anyfast_sora,
    "apifree": _apifree,
    "newapi": _newapi,
}
