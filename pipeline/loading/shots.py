"""Shots: each shot's own fields over the defaults, its provider, image and rendered prompt.

A field set to null in a shot clears the default. `prompt` and `template` are one choice:
a shot that sets either replaces both defaults. `vars` and `params` merge key by key.
Every value keeps the path it was written at, so a problem found later (here or against
the provider's spec) points at the line of the value, even one inherited from defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from jinja2.sandbox import SandboxedEnvironment

from ..errors import InputError
from ..model import FrameRef, Shot
from ..templating import (
    build_context,
    load_template,
    make_environment,
    referenced_names,
    render_prompt,
)
from .findings import Findings, shot_label, suggest
from .schema import RESERVED_VARS, SHOT_FIELDS
from .variants import Variant
from .yamllines import YamlPath

__all__ = [
    "Field",
    "ShotSetting",
    "UsedNames",
    "build_shots",
    "field_values",
    "read_fields",
    "resolve_image",
]

_CHOICE = ("prompt", "template")  # the shot's choice replaces the default's
_MAPS = ("vars", "params")  # merged key by key
_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*(;base64)?,", re.I)
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


@attrs.frozen
class Field:
    """A field's value as written (None: not set) and where."""

    value: Any
    path: YamlPath


@attrs.frozen
class ShotSetting:
    """What every shot of a storyboard is built with."""

    providers: Sequence[str]
    variables: Mapping[str, Any] | None  # storyboard vars; None when they are broken
    overrides: Mapping[str, Any]  # --var values, over every other variable
    defaults: Mapping[str, Field]
    storyboard: Mapping[str, Any]  # the template's `storyboard`: name and seed
    #: `assets:` by name: the image, or None when it is broken (reported at its line).
    assets: Mapping[str, Path | str | None] = attrs.Factory(dict)


def read_fields(block: Any, path: YamlPath) -> dict[str, Field]:
    """The shot fields written in a shot or in defaults, `seconds` read as `duration`."""
    if not isinstance(block, dict):
        return {}
    return {
        ("duration" if key == "seconds" else key): Field(value, (*path, key))
        for key, value in block.items()
        if key in SHOT_FIELDS
    }


def field_values(findings: Findings, fields: Mapping[str, Field]) -> dict[str, Any]:
    """The usable values of `fields`; a duration written as text becomes its number."""
    values = {k: f.value for k, f in fields.items() if findings.usable(f.path)}
    if isinstance(values.get("duration"), str):
        number = float(values["duration"].strip().removesuffix("s"))
        values["duration"] = int(number) if number.is_integer() else number
    return values


def resolve_image(findings: Findings, text: str, path: YamlPath) -> Path | str | None:
    """An image as written at `path`: a URL as it is, a local file as its absolute path
    (relative to the storyboard); None with the problem found when it is neither."""
    text, add = text.strip(), findings.add
    if text.lower().startswith("data:"):
        if _DATA_URL.match(text):
            return text
        add("image data: URL is malformed (expected data:<type>;base64,...)", path)
    elif text.lower().startswith(("http://", "https://")):
        if " " not in text:
            return text
        add("image URL contains spaces", path, value=True)
    elif _URL_SCHEME.match(text):
        add(f"image: unsupported URL scheme in {text!r} (use http, https or data)", path)
    else:
        file = (findings.doc.base_dir / Path(text).expanduser()).resolve()
        if file.is_file():
            return file
        if file.is_dir():
            add(f"image {text} is a folder, not an image file", path, value=True)
        elif file.exists():
            add(f"image {text} is not a regular file", path, value=True)
        else:
            add(f"image file not found: {text} (looked for {file})", path, value=True)
    return None


@attrs.define
class UsedNames:
    """The variable names the shots' prompts and templates read, and those their `vars`
    set; `complete` is False when some prompt or template could not be read for them."""

    names: set[str] = attrs.Factory(set)
    complete: bool = True


def build_shots(
    findings: Findings,
    variants: Sequence[Variant],
    setting: ShotSetting,
    used: UsedNames | None = None,
) -> list[Shot]:
    """The shots that pass every check; the problems of the others go to `findings`.

    `used`, when given, collects the variable names the shots read and set.
    """
    builder = _ShotBuilder(findings, setting, make_environment(findings.doc.base_dir))
    builder.used = used if used is not None else UsedNames()
    shots = []
    for variant in variants:
        shot = builder.build(variant.index, variant.item, variant.id or None)
        if shot is not None:
            if variant.label or variant.take:
                shot = attrs.evolve(
                    shot,
                    base=variant.base,
                    label=variant.label,
                    take=variant.take,
                    seed_key=variant.seed_key,
                )
            shots.append(shot)
    return shots


def _merge_defaults(own: Mapping[str, Field], defaults: Mapping[str, Field]) -> dict[str, Field]:
    merged = {k: f for k, f in defaults.items() if k not in _CHOICE + _MAPS}
    merged.update({k: f for k, f in own.items() if k not in _CHOICE + _MAPS})
    chosen = own if any(k in own for k in _CHOICE) else defaults
    merged.update({k: f for k, f in chosen.items() if k in _CHOICE})
    return merged


class _ShotBuilder:
    def __init__(self, findings: Findings, setting: ShotSetting, env: SandboxedEnvironment):
        self.findings = findings
        self.setting = setting
        self.env = env
        self.bad_templates: set[str] = set()  # reported once, where first named
        self.used = UsedNames()

    def build(self, index: int, item: Mapping[str, Any], shot_id: str | None) -> Shot | None:
        """One shot; None (with its problems found) when it cannot be built."""
        path: YamlPath = ("shots", index)
        label = shot_label(index, shot_id)
        own = read_fields(item, path)
        fields = _merge_defaults(own, self.setting.defaults)
        values = field_values(self.findings, fields)
        lines = self.lines(item, fields, path)
        shot_vars = self.merged_map("vars", own, lines)
        params = self.merged_map("params", own, lines)
        self.used.names.update(shot_vars or ())
        provider = self.provider(label, fields.get("provider"), path)
        image_ok, image = self.image(fields.get("image"))
        text = self.text_field(label, fields, path)
        variables = self.setting.variables
        if shot_id is None or text is None or shot_vars is None or variables is None:
            return None
        context = build_context(
            storyboard=self.setting.storyboard,
            shot={"id": shot_id, "index": index, "number": index + 1, "provider": provider}
            | {k: values.get(k) for k in ("model", "duration", "size", "resolution", "ratio")},
            variables={**variables, **shot_vars, **self.setting.overrides},
        )
        prompt = self.render(label, text, context, shot=path)
        remix = item.get("remix")
        sources = [remix] if remix else []
        if isinstance(image, FrameRef):
            sources.append(image.shot)
        usable = image_ok and all(self.findings.usable(f.path) for f in fields.values())
        if prompt is None or provider is None or params is None or not usable:
            return None
        if not self.findings.usable((*path, "remix")):
            return None
        return Shot(
            id=shot_id,
            index=index,
            provider=provider,
            prompt=prompt,
            model=values.get("model"),
            template=values.get("template"),
            vars={k: v for k, v in context.items() if k not in RESERVED_VARS},
            duration=values.get("duration"),
            size=values.get("size"),
            resolution=values.get("resolution"),
            ratio=values.get("ratio"),
            seed=values.get("seed"),
            image=image,
            remix=remix,
            params=params,
            line=self.findings.line(path),
            depends_on=sources,
            lines=lines,
        )

    def lines(
        self, item: Mapping[str, Any], fields: Mapping[str, Field], path: YamlPath
    ) -> dict[str, int]:
        """The line of every value the shot has (inherited ones at their defaults line)."""
        found = {k: self.findings.line(f.path) for k, f in fields.items() if f.value is not None}
        found["id"] = self.findings.line((*path, "id"))
        if item.get("remix") is not None:
            found["remix"] = self.findings.line((*path, "remix"))
        return {k: line for k, line in found.items() if line is not None}

    def merged_map(
        self, key: str, own: Mapping[str, Field], lines: dict[str, int]
    ) -> dict[str, Any] | None:
        """vars or params: the shot's entries over the defaults'. None if either is broken."""
        result: dict[str, Any] = {}
        for layer in (self.setting.defaults, own):
            field = layer.get(key)
            if field is None:
                continue
            if not self.findings.usable(field.path):
                return None
            for name, value in (field.value or {}).items():
                result[name] = value
                line = self.findings.line((*field.path, name))
                if line is not None:
                    lines[f"{key}.{name}"] = line
        return result

    def provider(self, label: str, field: Field | None, path: YamlPath) -> str | None:
        """The provider the shot names, or the storyboard's only one."""
        names = self.setting.providers
        if field is None or field.value is None:
            if len(names) == 1:
                return names[0]
            if names:
                self.findings.add(
                    f"{label} has no provider; set `provider:` (one of {', '.join(names)})", path
                )
            return None
        if not self.findings.usable(field.path):
            return None
        if field.value not in names:
            self.findings.add(
                f"{label}: unknown provider {field.value!r}{suggest(field.value, names)}",
                field.path,
                value=True,
            )
            return None
        return str(field.value)

    def image(self, field: Field | None) -> tuple[bool, Path | str | FrameRef | None]:
        """(usable, image): a URL as written, a local file as its absolute path, a named
        asset (`@name`) as the asset's, a frame of another shot as a FrameRef."""
        if field is None or field.value is None:
            return True, None
        if not self.findings.usable(field.path):
            return False, None
        if isinstance(field.value, dict):
            frame = field.value.get("frame", "last")
            if isinstance(frame, str) and frame.strip() not in ("first", "last"):
                frame = float(frame.strip().removesuffix("s"))
            return True, FrameRef(field.value["shot"], frame)
        text = field.value.strip()
        if text.startswith("@"):
            return self.asset(text[1:], field.path)
        image = resolve_image(self.findings, text, field.path)
        return image is not None, image

    def asset(self, name: str, path: YamlPath) -> tuple[bool, Path | str | None]:
        """The image of asset `name` (a problem when there is no such asset)."""
        assets = self.setting.assets
        if name in assets:
            image = assets[name]
            return image is not None, image  # a broken asset was reported at its line
        self.findings.add(
            f"image: unknown asset {name!r}{suggest(name, assets)}"
            + ("" if assets else " (there is no `assets:` section)"),
            path,
            value=True,
        )
        return False, None

    def text_field(self, label: str, fields: Mapping[str, Field], path: YamlPath) -> Field | None:
        """The shot's prompt or template field, if it has a usable one."""
        chosen = [fields[k] for k in _CHOICE if k in fields and fields[k].value is not None]
        if not chosen:
            if all(self.findings.usable(fields[k].path) for k in _CHOICE if k in fields):
                self.findings.add(f"{label} needs a prompt or a template", path)
            return None
        if len(chosen) > 1 or not self.findings.usable(chosen[0].path):
            return None  # both (or a broken one) were reported by the structure check
        return chosen[0]

    def render(
        self, label: str, text: Field, context: Mapping[str, Any], *, shot: YamlPath
    ) -> str | None:
        """The rendered prompt, or None with the problem found (a template's only once).

        Problems point at the shot's `prompt:` or `template:`, or at the shot where it
        inherits them from defaults.
        """
        doc, is_template = self.findings.doc, text.path[-1] == "template"
        from_shot = text.path[:-1] == shot
        key_line = doc.line(text.path)
        template = text.value if is_template else None
        names = referenced_names(
            self.env, prompt=None if is_template else text.value, template=template
        )
        if names is None:
            self.used.complete = False
        else:
            self.used.names.update(names)
        try:
            if template is not None:
                if template in self.bad_templates:
                    return None
                try:
                    user = label if from_shot else "defaults"
                    load_template(self.env, template, file=doc.source, line=key_line, user=user)
                except InputError:
                    self.bad_templates.add(template)
                    raise
            return render_prompt(
                self.env,
                context=context,
                file=doc.source,
                line=key_line if from_shot else doc.line(shot),
                prompt=None if is_template else text.value,
                template=template,
                prompt_line=doc.text_line(text.path),
            )
        except InputError as exc:
            self.findings.problems.extend(exc.problems)
            return None
