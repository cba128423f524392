"""Telling credentials apart from ordinary values, and keeping them out of what is stored.

The ledger refuses a request or summary that holds anything `find_secrets` reports, and
stores command lines through `redact_argv`; the state dir's lock file does the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

__all__ = ["REDACTED", "find_secrets", "is_secret_name", "redact_argv"]

REDACTED = "***"

_SECRET_EXACT = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "auth",
        "bearer",
        "cookie",
        "setcookie",
        "credential",
        "credentials",
        "passwd",
    }
)
_SECRET_SUFFIXES = ("token", "apikey", "secret", "secretkey", "privatekey", "password", "accesskey")
_BEARER_RE = re.compile(r"\s*bearer\s", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for a key or option name that looks like it holds a credential."""
    norm = re.sub(r"[^a-z0-9]", "", name.lower())
    return norm in _SECRET_EXACT or norm.endswith(_SECRET_SUFFIXES)


def find_secrets(obj: object, where: str = "$") -> list[str]:
    """Paths inside ``obj`` that look like credentials (never the values themselves).

    A key named like authorization, api_key, x-api-key, token or secret counts whatever
    its value, and so does any string that starts with ``Bearer``. ``max_tokens`` does not.
    """
    found: list[str] = []
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            path = f"{where}.{key}"
            if isinstance(key, str) and is_secret_name(key):
                found.append(path)
            else:
                found.extend(find_secrets(value, path))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            found.extend(find_secrets(value, f"{where}[{i}]"))
    elif isinstance(obj, str) and _BEARER_RE.match(obj):
        found.append(where)
    return found


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A copy of a command line with anything that looks like a credential replaced.

    Handles ``--api-key=X``, ``--api-key X``, ``token=X`` (as in ``--var token=X``) and
    ``Bearer X``.
    """
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        name, sep, _value = arg.lstrip("-").partition("=")
        if _BEARER_RE.match(arg):
            out.append(REDACTED)
        elif is_secret_name(name) and (sep or arg.startswith("-")):
            if sep:
                out.append(arg[: len(arg) - len(_value)] + REDACTED)
            else:
                out.append(arg)
                hide_next = True
        else:
            out.append(arg)
    return out
