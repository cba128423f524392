"""Regenerate the clients in generated/ from the specs in specs/ (`make regen`).

Each spec `specs/NAME.yaml` becomes the package `generated/NAME/`, produced by the pinned
openapi-python-client with `specs/openapi-python-client.yaml` and the template overrides in
`specs/generator-templates/`. The generator reads one document, so each spec is bundled with
the shared parts it references first (`vidpipe.bundling`), as the runner reads it. Into each package goes an `index` module as well: the operation
functions by role (`x-vidpipe.operations`), the body, answer and client classes, and the
sha256 of the spec, named as the generator named them (read from the generator's own parse of
the spec) and rendered from `index.py.jinja` by the generator's template environment. Last,
`adapters/registry.py` lists every index typed as the adapters' `ClientIndex`.

Output is built in a temporary folder and only swapped in when every spec generated without
warnings, so a failed run leaves generated/ as it was. No network is used. This is a
development command: nothing vidpipe imports at run time imports it. vidpipe runs it in a
subprocess (`--spec FILE`) to generate the client of a user's spec into its cache.
"""

from __future__ import annotations

import argparse
import keyword
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .errors import SpecError
from .openapi import SPEC_DIR
from .specs import GENERATOR_CONFIG, Spec, load_spec, spec_files

#: Template overrides for the generator and the templates of the vidpipe-specific files.
TEMPLATES = "generator-templates"
INDEX_TEMPLATE = "index.py.jinja"
REGISTRY_TEMPLATE = "registry.py.jinja"
#: Roles the adapters' `ClientIndex` names even when a spec lacks them (they are None then).
OPTIONAL_ROLES = ("content", "remix")
#: Names the index module defines itself; a role or a class may not take one of them.
_INDEX_NAMES = frozenset(
    {
        "SPEC",
        "SPEC_SHA256",
        "AuthenticatedClient",
        "File",
        "Unset",
        "CreateBody",
        "RemixBody",
        "Answer",
        "CREATE_BODIES",
        "REMIX_BODY",
        "ANSWERS",
        "Never",
        "TypeAlias",
    }
)


def _generator() -> list[str]:
    exe = Path(sys.executable).with_name("openapi-python-client")
    if not exe.exists():
        found = shutil.which("openapi-python-client")
        if found is None:
            raise SpecError(
                "openapi-python-client is not installed; install the specs extra: "
                "pip install 'vidpipe[specs]'"
            )
        exe = Path(found)
    return [str(exe)]


def _tool_env() -> dict[str, str]:
    env = dict(os.environ)
    # The post hooks call ruff: use the pinned one that sits beside this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def generate_one(spec_path: Path, out: Path, config: Path, templates: Path) -> None:
    """Generate one client package, with its index module, from the spec at `spec_path`
    (bundled with its shared parts) into the folder `out`."""
    spec = load_spec(spec_path)
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=out.parent) as tmp:
        bundled = Path(tmp) / spec_path.name
        bundled.write_text(
            yaml.safe_dump(dict(spec.doc), sort_keys=False, allow_unicode=True, width=100),
            "utf-8",
        )
        cmd = [
            *_generator(),
            "generate",
            "--path",
            str(bundled),
            "--output-path",
            str(out),
            "--meta",
            "none",
            "--config",
            str(config),
            "--custom-template-path",
            str(templates),
            "--overwrite",
            "--fail-on-warning",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_tool_env(), cwd=out.parent)
        text = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or "Warning" in text or "not in PATH" in text:
            raise SpecError(f"generation failed:\n{text}", spec=str(spec_path))
        write_index(spec, bundled, out, config, templates)


# -- the index module ----------------------------------------------------------------------


def _http_operations(doc: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """operationId -> (method, path) for every operation in the spec."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in (doc.get("paths") or {}).items():
        for method, op in (item or {}).items():
            if isinstance(op, dict) and "operationId" in op:
                found[str(op["operationId"])] = (method.lower(), str(path))
    return found


def _class_names(prop: Any) -> list[str]:
    """The generated model classes a parsed body or answer can be (files and scalars: none)."""
    from openapi_python_client.parser.properties import ModelProperty
    from openapi_python_client.parser.properties.union import UnionProperty

    if isinstance(prop, ModelProperty):
        return [str(prop.class_info.name)]
    if isinstance(prop, UnionProperty):
        return [name for inner in prop.inner_properties for name in _class_names(inner)]
    return []


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def index_context(
    spec: Path, doc: Mapping[str, Any], data: Any, field_prefix: str, spec_file: str = ""
) -> dict[str, Any]:
    """What the index template needs, named as the generator named the modules and classes
    it wrote: `data` is the generator's own parse of `doc`."""
    from openapi_python_client import strings

    by_route = {
        (endpoint.method.lower(), endpoint.path.get_untrusted_value()): (str(tag), endpoint)
        for tag, collection in data.endpoint_collections_by_tag.items()
        for endpoint in collection.endpoints
    }
    operations = _http_operations(doc)
    ext = doc.get("x-vidpipe") or {}
    roles: list[dict[str, str]] = []
    endpoints: dict[str, Any] = {}
    for role, op_id in (ext.get("operations") or {}).items():
        if not role.isidentifier() or keyword.iskeyword(role) or role in _INDEX_NAMES:
            raise SpecError(f"x-vidpipe.operations: {role!r} cannot name a role", spec=spec.stem)
        route = operations.get(str(op_id))
        if route is None or route not in by_route:
            raise SpecError(f"x-vidpipe.operations.{role}: no operation {op_id!r}", spec=spec.stem)
        tag, endpoint = by_route[route]
        module = strings.PythonIdentifier(endpoint.name, field_prefix)
        roles.append({"name": role, "module": f"api.{tag}.{module}"})
        endpoints[role] = endpoint
    for needed in ("create", "status"):
        if needed not in endpoints:
            raise SpecError(f"x-vidpipe.operations lacks {needed}", spec=spec.stem)
    create_bodies = [
        (repr(body.content_type.get_untrusted_value()), name)
        for body in endpoints["create"].bodies
        for name in _class_names(body.prop)
    ]
    remix = endpoints.get("remix")
    remix_bodies = _unique(
        [n for b in (remix.bodies if remix else []) for n in _class_names(b.prop)]
    )
    if not create_bodies:
        raise SpecError(
            "the create call has no body the generator made a class for", spec=spec.stem
        )
    if len(remix_bodies) > 1:
        raise SpecError("the remix call takes more than one body class", spec=spec.stem)
    answers = _unique(
        [
            name
            for role in ("create", "status", "remix")
            if role in endpoints
            for response in endpoints[role].responses.patterns
            if response.status_code.range and 200 <= response.status_code.range[0] < 300
            for name in _class_names(response.prop)
        ]
    )
    if not answers:
        raise SpecError("the create and status calls answer with no model", spec=spec.stem)
    models = sorted({name for _, name in create_bodies} | set(remix_bodies) | set(answers))
    clashes = sorted(set(models) & _INDEX_NAMES)
    if clashes:
        raise SpecError(f"schema names clash with the index: {', '.join(clashes)}", spec=spec.stem)
    return {
        "spec_name": spec.stem,
        "spec_file": spec_file or f"specs/{spec.name}",
        "roles": roles,
        "absent_roles": [r for r in OPTIONAL_ROLES if r not in endpoints],
        "models": models,
        "create_bodies": create_bodies,
        "create_classes": _unique([name for _, name in create_bodies]),
        "remix_body": remix_bodies[0] if remix_bodies else None,
        "answers": answers,
    }


def write_index(spec: Spec, bundled: Path, package: Path, config: Path, templates: Path) -> Path:
    """Write `package/index.py` for `spec`, rendered by the generator's template environment
    from its own parse of the bundled spec (the file `bundled`), then run the config's post
    hooks (ruff) as it does."""
    from openapi_python_client import Project
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser.errors import GeneratorError
    from openapi_python_client.parser.openapi import GeneratorData

    doc = dict(spec.doc)
    settings = Config.from_sources(
        ConfigFile.load_from_path(config), MetaType.NONE, bundled, "utf-8", True, package
    )
    data = GeneratorData.from_dict(doc, config=settings)
    if isinstance(data, GeneratorError):
        raise SpecError(f"the generator cannot read it: {data.header}", spec=spec.name)
    shown = f"specs/{spec.path.name}" if spec.builtin else spec.path.name
    context = index_context(spec.path, doc, data, settings.field_prefix, shown)
    context["spec_sha256"] = spec.sha256
    project = Project(openapi=data, config=settings, custom_template_path=templates)
    target = package / "index.py"
    target.write_text(project.env.get_template(INDEX_TEMPLATE).render(**context), "utf-8")
    for hook in settings.post_hooks:
        proc = subprocess.run(
            hook, shell=True, cwd=package, env=_tool_env(), capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SpecError(f"post hook failed: {hook}\n{proc.stdout}{proc.stderr}", spec=spec.name)
    return target


# -- the registry of every index ---------------------------------------------------------------


def registry_source(names: Sequence[str], templates: Path) -> str:
    """The text of `adapters/registry.py` for the generated packages `names`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(REGISTRY_TEMPLATE).render(names=sorted(names))


def _replace_file(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    ) as tmp:
        tmp.write(text)
    os.replace(tmp.name, target)


def regenerate(spec_dir: Path, out_dir: Path, registry: Path | None = None) -> list[Path]:
    """Regenerate every client into `out_dir` (and the index registry into `registry`).

    Returns the package folders written.
    """
    specs = spec_files(spec_dir)
    if not specs:
        raise SpecError(f"no specs found in {spec_dir}")
    for spec in specs:
        if not spec.stem.isidentifier() or keyword.iskeyword(spec.stem):
            raise SpecError("a spec's file name must be a Python identifier", spec=str(spec))
    config = (spec_dir / GENERATOR_CONFIG).resolve()
    templates = (spec_dir / TEMPLATES).resolve()
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    registry_text = registry_source([s.stem for s in specs], templates)
    with tempfile.TemporaryDirectory(prefix=".regen-", dir=out_dir) as tmp:
        staging = Path(tmp)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            jobs = [
                pool.submit(generate_one, spec.resolve(), staging / spec.stem, config, templates)
                for spec in specs
            ]
            for job in jobs:
                job.result()
        written = []
        for spec in specs:
            target = out_dir / spec.stem
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(staging / spec.stem), target)
            written.append(target)
    stale = {p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    for old in stale - set(written):
        if (old / "client.py").exists():  # only ever remove what the generator made
            shutil.rmtree(old)
    if registry is not None:
        _replace_file(registry, registry_text)
    return written


def generate_client(spec_path: Path, out_dir: Path) -> Path:
    """Generate the client of one spec (a user's, say) as the package `out_dir/NAME`, with
    the generator config and templates vidpipe ships. The package appears whole or not at all."""
    name = spec_path.stem
    if not name.isidentifier() or keyword.iskeyword(name):
        raise SpecError("a spec's file name must be a Python identifier", spec=str(spec_path))
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out_dir) as tmp:
        staged = Path(tmp) / name
        generate_one(
            spec_path.resolve(),
            staged,
            SPEC_DIR / GENERATOR_CONFIG,
            (SPEC_DIR / TEMPLATES).resolve(),
        )
        if not target.exists():  # else another process made the same client meanwhile
            os.replace(staged, target)
    return target


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _packages(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))}


def drift(fresh: Path, committed: Path) -> list[str]:
    """How the generated packages in `committed` differ from a fresh `regenerate` into
    `fresh`: packages with no spec behind them, packages missing, files that differ."""
    problems: list[str] = []
    made, kept = _packages(fresh), _packages(committed)
    for name in sorted(kept - made):
        problems.append(f"{name}: a generated package with no spec behind it (delete it)")
    for name in sorted(made - kept):
        problems.append(f"{name}: not generated (run make regen)")
    for name in sorted(made & kept):
        new, old = _files(fresh / name), _files(committed / name)
        for path in sorted(new.keys() | old.keys()):
            if new.get(path) != old.get(path):
                problems.append(f"{name}/{path}: differs from a fresh make regen")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--specs", type=Path, default=Path("specs"))
    parser.add_argument("--out", type=Path, default=Path("generated"))
    parser.add_argument(
        "--spec",
        type=Path,
        default=None,
        help="generate only this spec's client, as the package OUT/NAME",
    )
    parser.add_argument(
        "--registry",
        type=Path,
        default=None,
        help="where to write the registry of every index (pipeline/adapters/registry.py)",
    )
    args = parser.parse_args(argv)
    try:
        if args.spec is not None:
            print(f"generated {generate_client(args.spec, args.out)}")
            return 0
        for path in regenerate(args.specs, args.out, args.registry):
            print(f"generated {path}")
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
