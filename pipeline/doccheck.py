"""Compare a provider's API document with the spec that transcribes it.

The document is read by `vidpipe.providerdoc`, the spec's create call and answer by
`vidpipe.apifields`, and every change from the spec to the document is reported: parameters
and response fields added or removed, enum values (and status words) added or removed, type,
required/optional and range changes. A spec field that does not claim to come from the
document (`x-source: reference`, for example a shared part) is never reported as removed.
What a document leaves unsaid is not reported: the range of a field it gives none for, the
values of a response field it lists without them (the status words of a `string` status,
say), and that the spec requires a response field (it does so to read answers).

Every status word the document lists must be mapped by the spec's `x-vidpipe-status`. The
spec records the document's sha256 (`x-vidpipe.document-sha256`); a document that no longer
matches it has changed since the spec was checked, which is reported too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from .apifields import Change, Field, compare_fields, describe, spec_fields
from .errors import InputError, Problem, SpecError
from .openapi import SPEC_DIR
from .providerdoc import ApiDocument, DocField, parse_document
from .specs import Spec, SpecRegistry, load_spec

__all__ = [
    "DocCheck",
    "check_all",
    "check_document",
    "compare",
    "default_documents_dir",
    "document_fields",
]


def default_documents_dir() -> Path:
    """`../shared/seeds` beside the project whose specs these are (a checkout of it)."""
    folder = SPEC_DIR.parent.parent / "shared" / "seeds"
    if not folder.is_dir():
        raise InputError(
            Problem(f"no folder of provider documents given, and none at {folder}: give --all DIR")
        )
    return folder


@attrs.frozen
class DocCheck:
    """What changed from a spec to its document; no changes and no other findings: clean."""

    document: ApiDocument
    spec: Spec
    changes: list[Change] = attrs.Factory(list)
    unmapped: list[str] = attrs.Factory(list)  # status words the spec does not map
    sha256_mismatch: bool = False

    @property
    def ok(self) -> bool:
        return not (self.changes or self.unmapped or self.sha256_mismatch)

    def _where(self, change: Change) -> str:
        doc = self.document
        fields = doc.request if change.part == "request" else doc.response
        found = fields.get(change.field)
        return f"{doc.path.name}:{found.line}" if found and found.line else doc.path.name

    def lines(self) -> list[str]:
        """One finding per line, each naming the document line it is about."""
        out = [f"{self._where(c)}: {describe(c)}" for c in self.changes]
        status = self.document.response.get("status")
        for word in self.unmapped:
            where = f"{self.document.path.name}:{status.line}" if status and status.line else ""
            out.append(
                f"{where or self.document.path.name}: status word {word!r} is not in "
                f"x-vidpipe-status of {self.spec.status_file().name}: map it to queued, "
                "running, succeeded or failed"
            )
        if self.sha256_mismatch:
            recorded = self.spec.document_sha256
            what = f"records {recorded}" if recorded else "records none (x-vidpipe.document-sha256)"
            out.append(
                f"{self.document.path.name}: its sha256 is {self.document.sha256}, the spec "
                f"{what}: the document changed since the spec was checked; once the spec "
                "matches it, record the new sha256"
            )
        return out


def _field(doc: DocField) -> Field:
    return Field(
        name=doc.name,
        types=doc.types,
        required=doc.required,
        enum=doc.enum,
        minimum=doc.minimum,
        maximum=doc.maximum,
        line=doc.line,
    )


def document_fields(document: ApiDocument) -> tuple[dict[str, Field], dict[str, Field]]:
    """The document's request and response fields as `Field`s."""
    request = {name: _field(f) for name, f in document.request.items()}
    response = {name: _field(f) for name, f in document.response.items()}
    return request, response


def _unsaid(
    spec: Mapping[str, Field], document: Mapping[str, Field], *, values: bool
) -> dict[str, Field]:
    """The spec's fields without what the document does not say about them: ranges (and,
    with `values`, enum values) of the fields it gives none for."""
    out = {}
    for name, field in spec.items():
        said = document.get(name)
        if said is not None and said.minimum is None and said.maximum is None:
            field = attrs.evolve(field, minimum=None, maximum=None)
        if said is not None and values and not said.enum:
            field = attrs.evolve(field, enum=())
        out[name] = field
    return out


def _from_document(fields: Mapping[str, Field]) -> list[str]:
    return [name for name, field in fields.items() if field.source == "document"]


def compare(document: ApiDocument, spec: Spec) -> DocCheck:
    """Every change from `spec` to `document`, and the status words the spec cannot read."""
    spec_request, spec_response = spec_fields(spec)
    doc_request, doc_response = document_fields(document)
    changes = compare_fields(
        "request",
        _unsaid(spec_request, doc_request, values=False),
        doc_request,
        removable=_from_document(spec_request),
    )
    changes += [
        change
        for change in compare_fields(
            "response",
            _unsaid(spec_response, doc_response, values=True),
            doc_response,
            removable=_from_document(spec_response),
        )
        if change.kind != "optional"
    ]
    status = document.response.get("status")
    unmapped = [w for w in (status.enum if status else ()) if spec.normalise_status(w) is None]
    recorded = spec.document_sha256
    return DocCheck(
        document=document,
        spec=spec,
        changes=changes,
        unmapped=unmapped,
        sha256_mismatch=recorded != document.sha256,
    )


def check_document(document: Path, spec: Path | Spec) -> DocCheck:
    """Parse `document` and compare it with `spec` (a path or a loaded Spec)."""
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    return compare(parse_document(document), loaded)


def check_all(registry: SpecRegistry, folder: Path) -> list[DocCheck]:
    """Each spec that names a document against that document in `folder`.

    Raises InputError naming every spec whose document is not there, or that cannot be read.
    """
    if not folder.is_dir():
        raise InputError(Problem("no such folder of provider documents", str(folder)))
    checks: list[DocCheck] = []
    problems: list[Problem] = []
    for spec in registry:
        if not spec.document:
            continue
        path = folder / spec.document
        if not path.is_file():
            problems.append(
                Problem(f"its document {spec.document} is not in {folder}", str(spec.path))
            )
            continue
        try:
            checks.append(check_document(path, spec))
        except InputError as exc:
            problems.extend(exc.problems)
        except SpecError as exc:
            problems.append(Problem(str(exc), str(spec.path)))
    if problems:
        raise InputError(problems)
    return checks
