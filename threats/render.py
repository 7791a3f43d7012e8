"""Run Graphviz ``dot`` on diagram text in a bounded, isolated subprocess, and clean its SVG.

dot is a 2019-era C parser and layout engine fed with text derived from user input
(``knowledge/ecosystem.md`` §1.2-1.4), so it is treated as hostile-input territory: a separate
process with a wall-clock timeout, CPU, memory, file-size and descriptor limits, an environment
holding only ``PATH`` and an empty temporary working directory. The graphviz package's own
``pipe()`` has no timeout, hence this module. Layout knobs are chosen by graph size, because dot's
crossing minimisation and network simplex grow much faster than linearly (see ``layout_flags``).

``sanitize_svg`` is defence in depth for serving the SVG inline: the DOT builder already keeps
links, images and HTML out, this removes them again should anything slip through.
"""

from __future__ import annotations

import re
import resource
import shutil
import signal
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Literal

MIB = 1024 * 1024
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
FILE_SIZE_LIMIT = 50 * MIB  # dot writes to a pipe; this stops any file it might be tricked into writing
OPEN_FILES_LIMIT = 64  # plugins, fonts and the three standard streams fit easily
Format = Literal["svg", "png"]
# svg: the core renderer (text stays text). png: cairo, scaled down to at most 60 x 60 inches
# (5,760 px a side at 96 dpi): unscaled, a 300-asset diagram was a 9.5 MB, 12 s raster and larger
# ones exceeded the memory limit.
FORMATS: dict[str, tuple[str, ...]] = {"svg": ("-Tsvg",), "png": ("-Tpng", "-Gsize=60,60")}

# (max weight, flags); weight = max(nodes, edges / 3). Measured on this 2-core machine with
# clustered data-flow diagrams (bench/render.py): with dot's defaults a 300-asset system took
# 3-10 s, mostly in crossing minimisation (a second pass per cluster: ``remincross``) and the
# x-coordinate network simplex (``nslimit``, ``searchsize``); these caps bring it under 1 s.
# Above 1,000 nodes straight edges (no spline routing) and the hardest caps halve the time again.
# Never ``nslimit1``: capping the *ranking* simplex made clustered graphs fail with dot 2.43's
# "trouble in init_rank" (exit 1) where the same graph without it rendered fine.
LAYOUT_TIERS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (150, ()),
    (500, ("-Gnslimit=0.5", "-Gmclimit=0.05", "-Gsearchsize=20", "-Gremincross=false")),
    (1000, ("-Gnslimit=0.2", "-Gmclimit=0.05", "-Gsearchsize=10", "-Gremincross=false")),
)
LARGE_FLAGS: tuple[str, ...] = (
    "-Kdot",
    "-Gsplines=line",
    "-Gnslimit=0.05",
    "-Gmclimit=0.01",
    "-Gsearchsize=5",
    "-Gremincross=false",
)

_NODE_STMT = re.compile(r"^\s*(?!(?:graph|node|edge|subgraph)\b)[A-Za-z_][A-Za-z0-9_]*\s*\[", re.MULTILINE)
_EDGE_STMT = re.compile(r"^\s*\S+\s*-[->]", re.MULTILINE)


class RenderError(Exception):
    """dot could not produce a diagram; the message says why in words a user can act on."""


def graph_size(dot_text: str) -> tuple[int, int]:
    """Nodes and edges, counted from statement lines (one per line, as the builder writes)."""
    return len(_NODE_STMT.findall(dot_text)), len(_EDGE_STMT.findall(dot_text))


def layout_flags(nodes: int, edges: int = 0) -> list[str]:
    """The dot flags that bound layout work for a graph of this size."""
    weight = max(nodes, edges / 3)
    for limit, flags in LAYOUT_TIERS:
        if weight <= limit:
            return list(flags)
    return list(LARGE_FLAGS)


# Attack-path edges carry real labels (probability, flow, controls), which dot lays out as extra
# nodes, and routing splines around them dominated: a 300-node attack-path diagram took 3.9 s with
# the tier flags alone and 0.2 s with straight edges (bench/paths.py). Small diagrams keep curves.
LABELLED_STRAIGHT_ABOVE = 150


def labelled_layout_flags(nodes: int, edges: int = 0) -> list[str]:
    """``layout_flags`` for graphs with edge labels: straight edges above 150 nodes."""
    flags = layout_flags(nodes, edges)
    if max(nodes, edges / 3) > LABELLED_STRAIGHT_ABOVE and not any(f.startswith("-Gsplines") for f in flags):
        flags.append("-Gsplines=line")
    return flags


def _limits(cpu_seconds: int, memory_bytes: int) -> Callable[[], None]:
    """Runs in the child between fork and exec (so it must stay tiny and allocation-free)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))  # SIGXCPU, then SIGKILL
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES_LIMIT, OPEN_FILES_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def find_dot(path: str | None = None) -> str:
    """The absolute path of ``dot``, looked up on the system path only (never the cwd)."""
    found = shutil.which("dot", path=path or SYSTEM_PATH)
    if found is None:
        raise RenderError("Graphviz 'dot' was not found; install the graphviz package (apt-get install graphviz)")
    return found


def _failure(result: subprocess.CompletedProcess[bytes], cpu_seconds: int, memory_bytes: int) -> RenderError:
    """Explain a failed run. dot 2.43 does not check its allocations: at the memory limit it dies
    by SIGSEGV (or SIGTRAP from glib), it never says "out of memory"."""
    code = result.returncode
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        hint = {
            "SIGXCPU": f" (CPU limit of {cpu_seconds} s reached)",
            "SIGKILL": f" (CPU limit of {cpu_seconds} s reached)",
        }.get(name, f" (out of memory? the limit is {memory_bytes // MIB} MiB)")
        return RenderError(f"dot was killed by {name}{hint}")
    detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
    errors = [line for line in detail if not line.startswith("Warning")] or detail
    hint = " (a dot 2.43 bug with clusters; draw fewer nodes or flows)" if "trouble in init_rank" in detail[:1] else ""
    return RenderError(f"dot failed with exit code {code}{hint}: {' | '.join(errors[:3])[:500]}")


def render(
    dot_text: str,
    fmt: Format,
    *,
    timeout: float = 10.0,
    cpu_seconds: int = 20,
    memory_bytes: int = 512 * MIB,
    max_bytes_in: int = 2_000_000,
    flags: Sequence[str] | None = None,
) -> bytes:
    """Lay out and render ``dot_text`` as SVG or PNG bytes, or raise ``RenderError``.

    ``flags`` overrides the size-based ``layout_flags``. ``preexec_fn`` is not thread-safe; this
    runs in Celery prefork workers or request threads that start no other children concurrently.
    """
    if fmt not in FORMATS:
        raise RenderError(f"unsupported format {fmt!r}; use one of {sorted(FORMATS)}")
    try:
        data = dot_text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RenderError(f"diagram text is not valid UTF-8: {exc.reason}") from exc
    if len(data) > max_bytes_in:
        raise RenderError(
            f"diagram text is {len(data):,} bytes, over the {max_bytes_in:,}-byte limit; draw fewer nodes"
        )
    binary = find_dot()
    chosen = list(flags) if flags is not None else layout_flags(*graph_size(dot_text))
    with tempfile.TemporaryDirectory(prefix="render-") as workdir:
        try:
            result = subprocess.run(  # noqa: S603 - fixed binary and flags; the text goes to stdin
                [binary, *FORMATS[fmt], *chosen],
                input=data,
                capture_output=True,
                timeout=timeout,
                cwd=workdir,
                env={"PATH": SYSTEM_PATH},
                preexec_fn=_limits(cpu_seconds, memory_bytes),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"dot took longer than {timeout:g} s; the diagram is too large or tangled") from exc
        except OSError as exc:
            raise RenderError(f"dot could not be started: {exc}") from exc
    if result.returncode != 0:
        raise _failure(result, cpu_seconds, memory_bytes)
    if not result.stdout:
        raise RenderError("dot produced no output")
    return result.stdout


# ---------------------------------------------------------------- SVG sanitising

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
# Serialise SVG as the default namespace (``<svg xmlns=...>``, not ``<ns0:svg>``). This registry is
# process-wide; both are the standard prefixes, so no other user of ElementTree is surprised.
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)
_SCRIPTING_TAGS = {"script", "handler", "listener", "foreignObject", "iframe", "embed", "object", "style"}
_MEDIA_TAGS = {"image", "audio", "video"}
# SMIL animation can set ``href`` to ``javascript:`` after load, so it goes too (dot never emits it).
_ANIMATION_TAGS = {"animate", "animateMotion", "animateTransform", "animateColor", "set", "discard"}
DROPPED_TAGS = frozenset(_SCRIPTING_TAGS | _MEDIA_TAGS | _ANIMATION_TAGS)
_LINK_ATTRS = frozenset(
    {"href", f"{{{XLINK_NS}}}href", "src", "action", "formaction", "{http://www.w3.org/XML/1998/namespace}base"}
)
# The fixed DOCTYPE dot writes: public id and system URL, no internal subset (no entities).
_DOCTYPE = re.compile(
    rb'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1\.1//EN"\s+"http://www\.w3\.org/Graphics/SVG/1\.1/DTD/svg11\.dtd">'
)
_DANGEROUS_VALUE = re.compile(r"javascript:|vbscript:|data:|expression\(|url\((?!#)", re.IGNORECASE)


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _strip_attributes(element: ET.Element) -> None:
    for key, value in list(element.attrib.items()):
        name = _local(key)[1].lower()
        outside_link = key in _LINK_ATTRS and not value.startswith("#")
        if name.startswith("on") or outside_link or _DANGEROUS_VALUE.search(value):
            del element.attrib[key]


def _clean(element: ET.Element) -> None:
    """Clean ``element`` and its subtree in place: drop, unwrap ``<a>``, strip attributes."""
    _strip_attributes(element)
    index = 0
    while index < len(element):
        child = element[index]
        namespace, name = _local(child.tag)
        if namespace != SVG_NS or name in DROPPED_TAGS:
            _remove(element, index)
        elif name == "a":
            _clean(child)
            index += _unwrap(element, index)  # its children, already clean, now sit at ``index``
        else:
            _clean(child)
            index += 1


def _remove(parent: ET.Element, index: int) -> None:
    child = parent[index]
    _keep_tail(parent, index, child.tail)
    del parent[index]


def _keep_tail(parent: ET.Element, index: int, tail: str | None) -> None:
    if not tail:
        return
    if index == 0:
        parent.text = (parent.text or "") + tail
    else:
        parent[index - 1].tail = (parent[index - 1].tail or "") + tail


def _unwrap(parent: ET.Element, index: int) -> int:
    """Replace ``parent[index]`` (an ``<a>``) by its children, keeping text in order."""
    link = parent[index]
    _keep_tail(parent, index, link.text)
    children = list(link)
    if children:
        children[-1].tail = (children[-1].tail or "") + (link.tail or "")
    else:
        _keep_tail(parent, index, link.tail)
    parent[index : index + 1] = children
    return len(children)


def sanitize_svg(svg: bytes) -> bytes:
    """The SVG without scripts, event handlers, foreign content, images, outside links or ``<a>``.

    Refuses (``RenderError``) any document type other than the fixed one dot writes, and any
    entity declaration, before parsing: the standard library parser is not hardened against
    entity expansion, and dot never declares entities.
    """
    body = _DOCTYPE.sub(b"", svg, count=1)
    if re.search(rb"<!DOCTYPE|<!ENTITY", body, re.IGNORECASE):
        raise RenderError("refusing SVG with a document type or entity declaration")
    try:
        root = ET.fromstring(body)  # noqa: S314 - DOCTYPE and ENTITY refused above
    except ET.ParseError as exc:
        raise RenderError(f"SVG is not well-formed XML: {exc}") from exc
    if _local(root.tag) != (SVG_NS, "svg"):
        raise RenderError("not an SVG document")
    _clean(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
