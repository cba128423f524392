"""The generated client of a spec, and the check that it was generated from that very spec.

Every generated package records the sha256 of the spec it came from (`index.SPEC_SHA256`).
A spec edited since `make regen` would be driven by a client that no longer matches it (an
enum value the client rejects, a field it does not send), so such a client is refused with a
message that says what to do. The client of a user's spec comes from `clientcache`, which
generates it on first use.
"""

from __future__ import annotations

from ..errors import SpecError
from ..specs import Spec
from . import registry
from .clientcache import cached_index
from .contract import AnyIndex

__all__ = ["check_client", "client_index"]


def _missing(spec: Spec) -> SpecError:
    return SpecError(f"generated client for {spec.name} is missing: run make regen")


def client_index(spec: Spec) -> AnyIndex:
    """The index of `spec`'s generated client.

    Raises `SpecError` when there is none ("missing") or when it was generated from another
    version of the spec ("stale"); for a user's spec, when it cannot be generated.
    """
    if not spec.builtin:
        return cached_index(spec)
    loader = registry.INDEXES.get(spec.name)
    if loader is None:
        raise _missing(spec)
    try:
        index = loader()
    except ImportError as exc:
        raise _missing(spec) from exc
    if (spec.name, spec.sha256) != (index.SPEC, index.SPEC_SHA256):
        raise SpecError(f"generated client for {spec.name} is stale: run make regen")
    return index


def check_client(spec: Spec) -> None:
    """Raise `SpecError` unless `spec`'s generated client exists and is up to date."""
    client_index(spec)
