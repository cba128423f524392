"""The bad-input corpus: one case per mistake a user makes or an attacker tries, through the CLI.

Each case edits a copy of the example storyboard (or writes files beside it, or passes odd
arguments or environment) and runs `vidpipe run` (or `validate`) against a loopback emulator.
Every case must exit 2 with exactly the expected lines, each `error: FILE[:LINE]: message`,
and the emulator must not have seen a single request. `test_bad_input.py` holds the first
cases of the same kind; this file adds the cases of issue 10 and many more.

In an expected message (and in edits), `{tmp}` stands for the folder the storyboard is in,
`{outside}` for the folder above it and `{templates}` for vidpipe's own templates; in a
message, `{line:TEXT}` stands for the line of the storyboard holding TEXT. A problem's first
element is the text on the line it points at (ending in `$`: the line ends with it; "": line
1; None: the problem has no line).
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from vidpipe.limits import MAX_SHOTS
from vidpipe.templating import project_templates_dir

from .images import image_bytes
from .test_bad_input import EXAMPLE, invoke, line_of, module_server, server  # noqa: F401
from .test_e2e import Loopback, copy_example

Setup = Callable[[Path], None]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b""))
        + _chunk(b"IEND", b"")
    )


def write(name: str, data: bytes | str) -> Setup:
    """Write a file (relative to the storyboard's folder) before the run."""

    def setup(root: Path) -> None:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_text(data)
        else:
            target.write_bytes(data)

    return setup


def make_dir(name: str) -> Setup:
    def setup(root: Path) -> None:
        (root / name).mkdir(parents=True)

    return setup


def make_fifo(name: str) -> Setup:
    def setup(root: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / name)

    return setup


@attrs.frozen
class Case:
    """Edits to the example (each `old` must occur once), or a whole new `text`; files made
    before the run; arguments and environment; the lines expected on stderr."""

    problems: tuple[tuple[str | None, str], ...]
    edits: tuple[tuple[str, str], ...] = ()
    text: str | bytes | None = None
    setup: tuple[Setup, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str | None], ...] = ()
    command: str = "run"
    out: str = "out"  # the --out folder, relative to the storyboard's folder


FIRST_SHOT = "  - id: establish\n    template: establishing.j2\n"
ESTABLISH_IMAGE = "image: assets/poster.png          # uploaded as the first frame"
CLOSEUP_IMAGE = "image: assets/poster.png          # sent as an image_url content item"
POSTER_IMAGE = "image: assets/poster.png          # image-to-video: inlined as a data: URL"
POSTER_PROMPT = 'prompt: "Camera slowly zooms in, {{ hero }} blinks, petals drift past"'
DRONE_PROMPT = 'prompt: "A drone shot rising over {{ place }}, {{ light }}, {{ hero }} far below"'
SORA = "sora-2 on anyfast (anyfast_sora)"
SEEDANCE = "seedance-fast on anyfast (anyfast_seedance)"
HAPPYHORSE = "happyhorse-1.0-i2v on anyfast (anyfast_happyhorse)"
APIFREE = "video-model-id on apifree (apifree)"
HEADER_KEY = (
    "api_key has characters an HTTP header cannot carry (only visible ASCII: no spaces, "
    "accents or control characters)"
)


def image_case(shot_image: str, new: str, problem: str, *setup: Setup) -> Case:
    """A shot's image replaced by `new`, and the one problem expected at that line."""
    edited = shot_image.replace("assets/poster.png", new)
    return Case(((edited, problem),), ((shot_image, edited),), setup=setup)


def prompt_case(prompt: str, problem: str) -> Case:
    """The poster shot's prompt replaced by `prompt` (a YAML scalar), one problem there."""
    return Case(
        (("prompt: " + prompt, f"shot 'poster': {problem}"),),
        ((POSTER_PROMPT, "prompt: " + prompt),),
    )


CASES: dict[str, Case] = {
    # -- images: the real type, read from the bytes, and what each API accepts ------------
    "image-text-named-png": image_case(
        ESTABLISH_IMAGE,
        "assets/notimg.png",
        "shot 'establish': image assets/notimg.png: not an image: text (12 bytes) starting "
        "'hello world'",
        write("assets/notimg.png", "hello world\n"),
    ),
    "image-system-file-outside-the-folder": image_case(
        POSTER_IMAGE,
        "{outside}/etc/hostname",
        "shot 'poster': image {outside}/etc/hostname: not an image: text (9 bytes) starting "
        "'buildbox'",
        write("../etc/hostname", "buildbox\n"),
    ),
    "image-html-page": image_case(
        CLOSEUP_IMAGE,
        "assets/page.jpg",
        "shot 'closeup': image assets/page.jpg: not an image: an HTML page (38 bytes) "
        "starting '<!doctype html><html>403</html>'",
        write("assets/page.jpg", "<!doctype html><html>403</html>\n      "),
    ),
    "image-empty-file": image_case(
        ESTABLISH_IMAGE,
        "assets/empty.png",
        "shot 'establish': image assets/empty.png: not an image: nothing (0 bytes)",
        write("assets/empty.png", b""),
    ),
    "image-truncated-png": image_case(
        ESTABLISH_IMAGE,
        "assets/cut.png",
        "shot 'establish': image assets/cut.png: a damaged or truncated image (60 bytes)",
        write("assets/cut.png", image_bytes("PNG", 64, 64)[:60]),
    ),
    "image-binary-junk": image_case(
        POSTER_IMAGE,
        "assets/junk.webp",
        "shot 'poster': image assets/junk.webp: not an image: binary data (64 bytes) starting "
        "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
        write("assets/junk.webp", bytes(range(64))),
    ),
    "image-decompression-bomb": image_case(
        ESTABLISH_IMAGE,
        "assets/bomb.png",
        "shot 'establish': image assets/bomb.png: an image with too many pixels to be a frame",
        write("assets/bomb.png", png_claiming(100_000, 100_000)),
    ),
    "image-gif-where-sora-takes-jpeg-png-webp": image_case(
        ESTABLISH_IMAGE,
        "assets/anim.gif",
        f"shot 'establish': image assets/anim.gif (GIF 16x9): it is image/gif; it takes "
        f"image/jpeg, image/png, image/webp ({SORA})",
        write("assets/anim.gif", image_bytes("GIF")),
    ),
    "image-bmp-where-sora-takes-jpeg-png-webp": image_case(
        ESTABLISH_IMAGE,
        "assets/frame.bmp",
        f"shot 'establish': image assets/frame.bmp (BMP 16x9): it is image/bmp; it takes "
        f"image/jpeg, image/png, image/webp ({SORA})",
        write("assets/frame.bmp", image_bytes("BMP")),
    ),
    "image-tiff-for-seedance": image_case(
        CLOSEUP_IMAGE,
        "assets/scan.tif",
        f"shot 'closeup': image assets/scan.tif (TIFF 16x9): it is image/tiff; it takes "
        f"image/jpeg, image/png, image/webp, image/gif, image/bmp ({SEEDANCE})",
        write("assets/scan.tif", image_bytes("TIFF")),
    ),
    "image-icon-for-happyhorse": image_case(
        POSTER_IMAGE,
        "assets/favicon.ico",
        f"shot 'poster': image assets/favicon.ico (ICO 16x9): it is image/x-icon; it takes "
        f"image/jpeg, image/png, image/webp, image/gif, image/bmp ({HAPPYHORSE})",
        write("assets/favicon.ico", image_bytes("ICO")),
    ),
    "image-a-folder": image_case(
        ESTABLISH_IMAGE,
        "assets",
        "image assets is a folder, not an image file",
    ),
    "image-a-device": image_case(
        ESTABLISH_IMAGE, "/dev/zero", "image /dev/zero is not a regular file"
    ),
    "image-a-fifo": image_case(
        ESTABLISH_IMAGE,
        "assets/pipe.png",
        "image assets/pipe.png is not a regular file",
        make_fifo("assets/pipe.png"),
    ),
    "image-file-url": image_case(
        POSTER_IMAGE,
        "file:///etc/passwd",
        "image: unsupported URL scheme in 'file:///etc/passwd' (use http, https or data)",
    ),
    "image-ftp-url": image_case(
        POSTER_IMAGE,
        "ftp://example.com/a.png",
        "image: unsupported URL scheme in 'ftp://example.com/a.png' (use http, https or data)",
    ),
    "image-data-url-of-text": image_case(
        POSTER_IMAGE,
        "data:image/png;base64,aGVsbG8gd29ybGQ=",
        "shot 'poster': image: not an image: text (11 bytes) starting 'hello world'",
    ),
    "image-data-url-declaring-another-type": image_case(
        POSTER_IMAGE,
        "data:image/png;base64,/9j/4AAQ",
        "shot 'poster': image: a damaged or truncated image (6 bytes)",
    ),
    "image-data-url-without-data": image_case(
        POSTER_IMAGE,
        "data:image/png;base64",
        "image data: URL is malformed (expected data:<type>;base64,...)",
    ),
    # -- remixes: the source must be a task the remixing API can reference -----------------
    "remix-of-a-seedance-shot-by-sora": Case(
        (
            (
                "remix: closeup",
                f"shot 'night': remixes 'closeup', made by {SEEDANCE}, whose tasks {SORA} "
                "cannot reference: a remix source must come from the same API family (videos)",
            ),
        ),
        (("remix: establish ", "remix: closeup "),),
    ),
    "remix-of-a-happyhorse-shot-by-sora": Case(
        (
            (
                "remix: poster",
                f"shot 'night': remixes 'poster', made by {HAPPYHORSE}, whose tasks {SORA} "
                "cannot reference: a remix source must come from the same API family (videos)",
            ),
        ),
        (("remix: establish ", "remix: poster "),),
    ),
    "remix-of-a-shot-on-another-provider": Case(
        (
            (
                "remix: drone",
                "shot 'night': remixes 'drone', which runs on provider 'apifree'; a remix must "
                "use the same provider ('anyfast')",
            ),
        ),
        (("remix: establish ", "remix: drone "),),
    ),
    "remix-by-an-api-without-remix": Case(
        (("remix: establish$", f"shot 'closeup': {SEEDANCE} cannot remix a video"),),
        (("    model: seedance-fast\n", "    model: seedance-fast\n    remix: establish\n"),),
    ),
    "remix-of-itself": Case(
        (
            (
                "remix: night",
                "remix cycle: night (line {line:remix: night}) -> night (each shot remixes the next)",
            ),
        ),
        (("remix: establish ", "remix: night "),),
    ),
    # -- --var: a name nothing uses is a misspelling ---------------------------------------
    "var-misspelt-close-to-a-var": Case(
        (
            (
                None,
                "--var 'ligth': no prompt, template or vars use this name (did you mean 'light'?)",
            ),
        ),
        args=("--var", "ligth=dusk"),
    ),
    "var-misspelt-close-to-a-template-variable": Case(
        (
            (
                None,
                "--var 'emotoin': no prompt, template or vars use this name (did you mean "
                "'emotion'?)",
            ),
        ),
        args=("--var", "emotoin=sad"),
    ),
    "var-style-no-such-variable": Case(
        ((None, "--var 'stlye': no prompt, template or vars use this name"),),
        args=("--var", "stlye=film noir"),
    ),
    "var-reserved-name": Case(
        ((None, "--var 'shot': not a usable variable name"),),
        args=("--var", "shot=x"),
    ),
    "var-not-an-identifier": Case(
        ((None, "--var '1st': not a usable variable name"),),
        args=("--var", "1st=x"),
    ),
    # -- output paths: checked before anything is created ----------------------------------
    "out-under-proc": Case(
        (
            (
                None,
                "--out /proc/vidpipe-out: cannot write in /proc/vidpipe-out/sunflower-cat: "
                "No such file or directory",
            ),
        ),
        out="/proc/vidpipe-out",
    ),
    "out-is-a-file": Case(
        ((None, "--out {tmp}/out: {tmp}/out is not a folder"),),
        setup=(write("out", "not a folder"),),
    ),
    "out-pipeline-folder-is-a-file": Case(
        ((None, "--out {tmp}/out: {tmp}/out/sunflower-cat is not a folder"),),
        setup=(write("out/sunflower-cat", "not a folder"),),
    ),
    "out-shot-file-is-a-folder": Case(
        (
            (
                None,
                "--out {tmp}/out: {tmp}/out/sunflower-cat/establish.mp4 is a folder; a file is "
                "written there (move it away)",
            ),
        ),
        setup=(make_dir("out/sunflower-cat/establish.mp4"),),
    ),
    "out-final-cut-is-a-folder": Case(
        (
            (
                None,
                "--out {tmp}/out: {tmp}/out/sunflower-cat/final.mp4 is a folder; a file is "
                "written there (move it away)",
            ),
        ),
        setup=(make_dir("out/sunflower-cat/final.mp4"),),
    ),
    "out-manifest-is-a-folder": Case(
        (
            (
                None,
                "--out {tmp}/out: {tmp}/out/sunflower-cat/manifest.json is a folder; a file is "
                "written there (move it away)",
            ),
        ),
        setup=(make_dir("out/sunflower-cat/manifest.json"),),
    ),
    "out-shot-file-is-a-fifo": Case(
        (
            (
                None,
                "--out {tmp}/out: {tmp}/out/sunflower-cat/closeup.mp4 is not a regular file; a "
                "file is written there",
            ),
        ),
        setup=(make_fifo("out/sunflower-cat/closeup.mp4"),),
    ),
    # -- API keys: never in a message, refused when a header cannot carry them -------------
    "key-with-an-accent": Case(
        (("api_key: ${ANYFAST_API_KEY:-}", f"provider 'anyfast': {HEADER_KEY}"),),
        env=(("ANYFAST_API_KEY", "sk-anyfast-clé-3f9c"),),
    ),
    "key-with-a-space": Case(
        (("api_key: ${APIFREE_API_KEY:-}", f"provider 'apifree': {HEADER_KEY}"),),
        env=(("APIFREE_API_KEY", "sk-apifree 8e2d"),),
    ),
    "key-with-a-header-injection": Case(
        (("api_key: ${NEWAPI_API_KEY:-}", f"provider 'gateway': {HEADER_KEY}"),),
        env=(("NEWAPI_API_KEY", "sk-x\r\nX-Injected: 1"),),
    ),
    "key-written-in-the-file-with-an-emoji": Case(
        (("api_key: sk-🔑", f"provider 'anyfast': {HEADER_KEY}"),),
        (("api_key: ${ANYFAST_API_KEY:-}", "api_key: sk-🔑"),),
    ),
    # -- limits ------------------------------------------------------------------------------
    "storyboard-over-the-size-limit": Case(
        (
            (
                None,
                "the storyboard is 3.0 MiB, over the limit of 2.0 MiB; split it, or keep "
                "images in files",
            ),
        ),
        text=EXAMPLE + "#" * (3 * 2**20 - len(EXAMPLE.encode()) - 1) + "\n",
    ),
    "storyboard-with-too-many-shots": Case(
        (
            (
                "shots:",
                f"{MAX_SHOTS + 1:,} shots; a storyboard may have at most {MAX_SHOTS:,} (split "
                "it into several)",
            ),
        ),
        text="name: many\nproviders: {anyfast: {api: anyfast}}\nshots:\n"
        + "".join(f"  - {{id: s{i}, prompt: x}}\n" for i in range(MAX_SHOTS + 1)),
    ),
    "alias-bomb": Case(
        (("a: &a", "the document expands to over 1,000,000 values via aliases"),),
        text="a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
            for i in range(6)
        ),
    ),
    "prompt-over-the-api-length": prompt_case(
        "\"{{ 'word ' * 3000 }}\"",
        f"the prompt is 14,999 characters; {HAPPYHORSE} takes at most 10,000",
    ),
    "prompt-string-repeated-ten-million-times": prompt_case(
        "\"{{ 'ab ' * 10**7 }}\"",
        "prompt: repeating a value 10,000,000 times would make more than 100,000 characters",
    ),
    "prompt-nested-range-loops": prompt_case(
        '"{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}x"',
        "prompt: runs over 1,000,000 template steps (a loop that is too long?)",
    ),
    "prompt-loop-output-over-the-limit": prompt_case(
        '"{% for i in range(60000) %}ab {% endfor %}"',
        "prompt: renders over 100,000 characters",
    ),
    "prompt-format-width": prompt_case(
        "\"{{ '%99999999d' % 1 }}\"",
        "prompt: formatting with this width would make more than 100,000 characters",
    ),
    "prompt-str-format-width": prompt_case(
        "\"{{ '{:>99999999}'.format(hero) }}\"",
        "prompt: str.format would make more than 100,000 characters",
    ),
    "prompt-ljust": prompt_case(
        '"{{ hero.ljust(10**9) }}"',
        "prompt: str.ljust would make more than 100,000 characters",
    ),
    "prompt-center-filter": prompt_case(
        '"{{ hero | center(10**9) }}"',
        "prompt: the center filter would make more than 100,000 characters",
    ),
    "prompt-replace-amplifies": prompt_case(
        "\"{{ ('x' * 60000) | replace('x', 'xx') }}\"",
        "prompt: the replace filter would make more than 100,000 characters",
    ),
    "prompt-list-of-shared-strings": prompt_case(
        "\"{% set big = ['x' * 99999] %}{{ big * 2 }}\"",
        "prompt: repeating a value 2 times would make more than 100,000 characters",
    ),
    "prompt-power": prompt_case(
        '"{{ 7 ** 999999 }}"', "prompt: a power would make more than 100,000 characters"
    ),
    "template-file-that-loops-for-ever": Case(
        (
            (
                "template: spin.j2",
                "shot 'night': template 'spin.j2' (template line 2): runs over 1,000,000 "
                "template steps (a loop that is too long?)",
            ),
        ),
        (("template: remix.j2", "template: spin.j2"),),
        setup=(
            write(
                "templates/spin.j2",
                "{{ change }}\n{% for i in range(99999) %}{% for j in range(99999) %}"
                "{% endfor %}{% endfor %}\n",
            ),
        ),
    ),
    # -- YAML: errors point where the construct opened ----------------------------------------
    "yaml-unclosed-double-quote-at-the-end": Case(
        (
            (
                '"{{ hero | capitalize }} curls',
                "YAML syntax error: the quoted text that starts here is not closed (found "
                f"unexpected end of stream at line {len(EXAMPLE.splitlines()) + 1})",
            ),
        ),
        (('sun sets"\n', "sun sets\n"),),
    ),
    "yaml-unclosed-double-quote-running-on": Case(
        (
            (
                'prompt: "A drone shot rising',
                "YAML syntax error: the quoted text that starts here runs on to line "
                "{line:curls up to sleep}; is its closing quote missing? (while parsing a block "
                "mapping expected <block end>, but found '{' at line {line:curls up to sleep})",
            ),
        ),
        ((DRONE_PROMPT, DRONE_PROMPT[:-1]),),
    ),
    "yaml-unclosed-single-quote": Case(
        (
            (
                "model: 'kling-video",
                "YAML syntax error: the quoted text that starts here is not closed (found "
                f"unexpected end of stream at line {len(EXAMPLE.splitlines()) + 1})",
            ),
        ),
        (("model: kling-video", "model: 'kling-video"),),
    ),
    "yaml-unclosed-flow-list": Case(
        (
            (
                "mood: [calm, warm}",
                "YAML syntax error: the [ list that starts here is not closed (expected ',' "
                "or ']', but got '}' at line {line:walks slowly})",
            ),
        ),
        (("mood: [calm, warm]}", "mood: [calm, warm}"),),
    ),
    "yaml-unclosed-flow-mapping": Case(
        (
            (
                "params: {generate_audio: false",
                "YAML syntax error: the { mapping that starts here is not closed (expected ',' "
                "or '}', but got ':' at line {line:  - id: night})",
            ),
        ),
        (("params: {generate_audio: false}", "params: {generate_audio: false"),),
    ),
    "yaml-key-without-a-colon": Case(
        (
            (
                "  light golden hour",
                "YAML syntax error: this key has no ':' after it (could not find expected ':' "
                "at line {line:shots:})",
            ),
        ),
        (("  light: golden hour\n", "  light golden hour\n"),),
    ),
    "yaml-tab-indentation": Case(
        (
            (
                "\tduration: 4",
                "YAML syntax error: while scanning for the next token found character '\\t' "
                "that cannot start any token",
            ),
        ),
        (("    duration: 4\n\nfinal:", "\tduration: 4\n\nfinal:"),),
    ),
    "yaml-duplicate-key-in-a-shot": Case(
        (
            (
                "model: seedance-pro",
                "duplicate key 'model' (first written at line {line:model: seedance-fast})",
            ),
        ),
        (("    model: seedance-fast\n", "    model: seedance-fast\n    model: seedance-pro\n"),),
    ),
    "yaml-python-object-tag": Case(
        (
            (
                "!!python/object/apply:os.system",
                "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'",
            ),
        ),
        (("  light: golden hour\n", "  light: !!python/object/apply:os.system [echo hi]\n"),),
    ),
    "yaml-not-utf8": Case(
        ((None, "not UTF-8 text (invalid continuation byte)"),),
        text=b"name: caf\xe9\n",
    ),
    "yaml-empty-file": Case((("", "the storyboard is empty"),), text=""),
    "yaml-a-list-at-the-top": Case(
        (("- id: one", "the storyboard must be a mapping, not a list"),),
        text="- id: one\n  prompt: hi\n",
    ),
    # -- templates -----------------------------------------------------------------------------
    "undefined-variable-close-to-one": prompt_case(
        '"Camera slowly zooms in, {{ hreo }} blinks"',
        "prompt: undefined variable: 'hreo' is undefined (did you mean 'hero'?)",
    ),
    "undefined-variable-in-a-template-close-to-one": Case(
        (
            (
                "template: closeup.j2",
                "shot 'closeup': template 'closeup.j2' (template line 3): undefined variable: "
                "'emotion' is undefined (did you mean 'emotions'?)",
            ),
        ),
        (("vars: {emotion: curious", "vars: {emotions: curious"),),
    ),
    "sandbox-escape-attempt": prompt_case(
        "\"{{ ''.__class__.__mro__[1].__subclasses__() }}\"",
        "prompt: not allowed in the sandbox: access to attribute '__class__' of 'str' object "
        "is unsafe.",
    ),
    "prompt-syntax-error": prompt_case(
        '"{% for x in %}{{ x }}{% endfor %}"',
        "prompt syntax error: Expected an expression, got 'end of statement block'",
    ),
    "prompt-renders-empty": prompt_case("\"{{ '' }}  \"", "prompt renders an empty prompt"),
    "template-path-traversal": Case(
        (
            (
                "template: ../../../etc/passwd",
                "shot 'night': template '../../../etc/passwd' not found (searched: {templates})",
            ),
        ),
        (("template: remix.j2", "template: ../../../etc/passwd"),),
    ),
    # -- providers, shots and arguments ----------------------------------------------------
    "provider-base-url-not-http": Case(
        (
            (
                "base_url: ftp://",
                "provider 'apifree': base_url must be an http(s) URL or 'embedded'",
            ),
        ),
        (("base_url: ${APIFREE_BASE_URL:-embedded}", "base_url: ftp://gateway.example"),),
    ),
    "provider-allow-private-urls-not-a-boolean": Case(
        (
            (
                "allow_private_urls: sometimes",
                "provider 'apifree': allow_private_urls must be a boolean, not a string",
            ),
        ),
        (
            (
                "    api_key: ${APIFREE_API_KEY:-}\n",
                "    api_key: ${APIFREE_API_KEY:-}\n    allow_private_urls: sometimes\n",
            ),
        ),
    ),
    "unknown-top-level-key": Case(
        (("shot:", "unknown key 'shot' in the storyboard (did you mean 'shots'?)"),),
        (("final:\n", "shot:\n  - id: extra\nfinal:\n"),),
    ),
    "shot-id-path-traversal": Case(
        (
            (
                "id: ../../etc",
                "shots[3]: id '../../etc' is not a slug (lowercase letters, digits, '-' and '_', "
                "starting with a letter or digit, at most 64 characters)",
            ),
        ),
        (("  - id: poster\n", "  - id: ../../etc\n"),),
    ),
    "final-cut-names-an-unknown-shot": Case(
        (
            (
                "concat: [establish, closeup, nigth",
                "final.concat: unknown shot 'nigth' (did you mean 'night'?)",
            ),
        ),
        (("concat: [establish, closeup, night,", "concat: [establish, closeup, nigth,"),),
    ),
    "params-set-the-model": Case(
        (
            (
                "params: {model: sora-2-pro}",
                "shot 'drone': params.model is set by vidpipe; use the shot's `model`",
            ),
        ),
        ((DRONE_PROMPT, DRONE_PROMPT + "\n    params: {model: sora-2-pro}"),),
    ),
    "params-misspelt-field": Case(
        (
            (
                "params: {watermak: false}",
                f"shot 'poster': {HAPPYHORSE} has no field 'watermak'; did you mean 'watermark'?",
            ),
        ),
        (("params: {watermark: false}", "params: {watermak: false}"),),
    ),
    "seed-out-of-range": Case(
        (("seed: 4294967296", "shot 'poster': seed: 4294967296 is out of range 0..2147483647"),),
        ((POSTER_PROMPT, POSTER_PROMPT + "\n    seed: 4294967296"),),
    ),
    "negative-duration": Case(
        (("duration: -4", "shot 'poster': duration: -4 is out of range 3..15"),),
        (("    duration: 4\n    params: {watermark", "    duration: -4\n    params: {watermark"),),
    ),
    "only-and-force-unknown-shots": Case(
        (
            (None, "--only: no shot 'finnale' (did you mean 'finale'?)"),
            (None, "--force: no shot 'estblish' (did you mean 'establish'?)"),
        ),
        args=("--only", "finnale", "--force", "estblish"),
    ),
    "validate-reports-the-same-image-problem": attrs.evolve(
        image_case(
            ESTABLISH_IMAGE,
            "assets/notimg.png",
            "shot 'establish': image assets/notimg.png: not an image: text (12 bytes) "
            "starting 'hello world'",
            write("assets/notimg.png", "hello world\n"),
        ),
        command="validate",
    ),
    "validate-reports-an-unused-var": Case(
        ((None, "--var 'stlye': no prompt, template or vars use this name"),),
        args=("--var", "stlye=film noir"),
        command="validate",
    ),
}


def _placeholders(text: str, root: Path) -> str:
    """`{tmp}`, `{outside}` and `{templates}` filled in."""
    for name, value in (
        ("{tmp}", root),
        ("{outside}", root.parent),
        ("{templates}", project_templates_dir()),
    ):
        text = text.replace(name, str(value))
    return text


def expected(board: Path, text: str, case: Case) -> list[str]:
    """The lines `case` must print on stderr, each `error: FILE[:LINE]: message`."""
    lines = []
    for needle, message in case.problems:
        where = str(board)
        if needle is not None:
            where += f":{line_of(text, _placeholders(needle, board.parent)) if needle else 1}"
        message = _placeholders(message, board.parent)
        message = re.sub(r"\{line:([^}]+)\}", lambda m: str(line_of(text, m.group(1))), message)
        lines.append(f"error: {where}: {message}")
    return lines


def prepare(tmp_path: Path, case: Case) -> tuple[Path, str]:
    """The storyboard of `case` beside a copy of the example's assets, and its text."""
    root = tmp_path / "board"
    board = copy_example(root)
    if isinstance(case.text, bytes):
        board.write_bytes(case.text)
        text = case.text.decode("latin-1")
    else:
        text = EXAMPLE if case.text is None else case.text
        for old, new in case.edits:
            assert text.count(old) == 1, old
            text = text.replace(old, _placeholders(new, root))
        board.write_text(text)
    for setup in case.setup:
        setup(root)
    return board, text


def test_the_corpus_has_at_least_60_cases() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_2_with_exactly_its_lines_and_sends_nothing(
    server: Loopback,  # noqa: F811
    tmp_path: Path,
    name: str,
) -> None:
    case = CASES[name]
    board, text = prepare(tmp_path, case)
    argv = [case.command, str(board)]
    if case.command == "run":
        argv += ["--out", str(board.parent / case.out)]
    result = invoke(server, [*argv, *case.args], dict(case.env))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == expected(board, text, case)
    assert result.stdout == ""
    for _, value in case.env:
        assert value is None or value not in result.output  # a key is never shown
    assert server.requests == []
    stats = server.stats()
    assert stats["creates"]["total"] == stats["polls"]["total"] == 0
    assert stats["downloads"]["total"] == 0 and stats["rejected"] == {}
    assert not (board.parent / ".vidpipe").exists()
