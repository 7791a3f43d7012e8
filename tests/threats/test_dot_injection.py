"""Hostile names must stay literal text, end to end through the real ``dot`` binary.

Every user-derived string (zone, asset and flow names, protocols, kinds, titles, attacker profile
names, control codes) is filled with the DOT and SVG injection payloads of
``knowledge/ecosystem.md`` §1.3. The checks are made three ways: a small DOT tokenizer (no
unquoted text but our ids and keywords; attribute names on the allow-list), dot's own parse
(``-Tjson0``: the attribute names it actually saw) and the SVG (the text shows the payload
verbatim, and there is no script, event handler, link or image).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threats.engine.dot import ALLOWED_ATTRIBUTES, DrawnPath, PathHop, attack_path_dot, clean_text, dfd_dot
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from threats.render import render

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")

SVG = "{http://www.w3.org/2000/svg}"
PAYLOADS = (
    'He said "hi"',
    "ends with a backslash\\",
    "two trailing\\\\",
    "} digraph evil { x",
    "] [URL=x",
    "<script>alert(1)</script>",
    "line one\nline two\r\nthree",
    "a -> b",
    "a -- b",
    "<<b>x</b>>",
    '<x> URL="javascript:alert(1)" evil=<y>',
    r"\N \G \L \E \T \H \n \l \r",
    "ünïcödé ☃ 😀 中文 עברית",
    "nul\x00bell\x07esc\x1bdel\x7f",
    "&#1;&#xFFFE;&amp;&lt;b&gt;&foo;",
    "A" * 10_000,
)
ID_TOKEN = re.compile(r"^(?:am?\d+|zm?\d+|cluster_zm?\d+|p\d+|inet|more)$")
KEYWORDS = {"digraph", "graph", "node", "edge", "subgraph", "dfd", "attack_paths"}
# What dot -Tjson0 adds itself: structure and layout results.
LAYOUT_KEYS = {
    "_gvid", "_subgraph_cnt", "bb", "directed", "edges", "head", "height", "lheight", "lp", "lwidth", "name",
    "nodes", "objects", "pos", "strict", "subgraphs", "tail", "width", "xlp",
}  # fmt: skip


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, value) tokens of DOT text: "q" quoted string, "id", "op" punctuation, "html" ``<``."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            yield "q", text[i + 1 : j]
            i = j + 1
        elif text.startswith("->", i) or text.startswith("--", i):
            yield "op", text[i : i + 2]
            i += 2
        elif ch in "[]{}=,;":
            yield "op", ch
            i += 1
        elif ch == "<":
            yield "html", ch
            i += 1
        else:
            match = re.compile(r"[A-Za-z0-9_.]+").match(text, i)
            assert match, f"unexpected character {ch!r} outside quotes at {i}"
            yield "id", match.group()
            i = match.end()


def assert_dot_is_safe(text: str) -> None:
    """Only our ids and keywords unquoted, every value quoted, every attribute allowed."""
    toks = list(tokens(text))
    assert all(kind != "html" for kind, _ in toks), "an HTML-like (<...>) value reached the DOT text"
    for (kind, value), following in zip(toks, [*toks[1:], ("op", "")], strict=True):
        if following == ("op", "="):
            assert kind == "id" and value in ALLOWED_ATTRIBUTES, f"attribute {value!r} is not allowed"
        elif kind == "id":
            assert value in KEYWORDS or ID_TOKEN.match(value), f"unexpected unquoted token {value!r}"
    values = [toks[i + 1] for i, tok in enumerate(toks) if tok == ("op", "=")]
    assert all(kind == "q" for kind, _ in values), "an attribute value is not quoted"


def dot_seen_attributes(text: str) -> set[str]:
    """The attribute names dot itself parsed (its JSON output minus structure and layout keys)."""
    result = subprocess.run(["dot", "-Tjson0"], input=text.encode(), capture_output=True, timeout=60, check=True)
    data = json.loads(result.stdout)
    seen = set(data)
    for item in [*data.get("objects", []), *data.get("edges", [])]:
        seen |= set(item)
        if "name" in item and "nodes" not in item:
            assert ID_TOKEN.match(item["name"]) or item["name"] in KEYWORDS, item["name"]
    return seen - LAYOUT_KEYS


def assert_svg_is_safe(svg: bytes) -> list[str]:
    """No script, handler, link, image or foreign content; returns the texts shown."""
    root = ET.fromstring(svg)  # noqa: S314 - our own dot output
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        assert tag not in {"script", "a", "image", "foreignObject", "iframe"}, f"<{tag}> in SVG"
        for key, value in element.attrib.items():
            name = key.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on"), f"event attribute {key}"
            assert name not in {"href", "url", "target"}, f"link attribute {key}"
            assert "javascript:" not in value.lower(), f"javascript: in attribute {key}"
    raw = svg.decode()
    assert "<script" not in raw and "<a " not in raw and "<image" not in raw
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def hostile_system() -> SystemSnapshot:
    n = len(PAYLOADS)
    zones = tuple(
        ZoneData(id=i + 1, name=p, trust_level=i % 5, parent_id=i if i % 3 else None) for i, p in enumerate(PAYLOADS)
    )
    assets = tuple(
        AssetData(id=i + 1, name=p, kind="model_weights" if i % 4 == 0 else "gpu_host", zone_id=i + 1)
        for i, p in enumerate(PAYLOADS)
    )
    evil_kind = AssetData(id=n + 1, name="odd kind", kind='<x> URL="javascript:alert(1)"\\', zone_id=1)
    flows = tuple(
        FlowData(
            id=i + 1,
            name=p,
            protocol=PAYLOADS[-1 - i],
            source_id=i + 1,
            target_id=(i + 1) % n + 1,
            encrypted=i % 2 == 0,
            bidirectional=i % 3 == 0,
            carries=(1,),
        )
        for i, p in enumerate(PAYLOADS)
    )
    return SystemSnapshot(zones=zones, assets=(*assets, evil_kind), flows=flows)


def hostile_paths() -> list[DrawnPath]:
    return [
        DrawnPath(p, target_id=(i % 5) + 2, probability=0.1 + i / 40, hops=(
            PathHop(None, 1, 1, 0.9, (p, "M-RATE-QUOTA")),
            PathHop(1, (i % 5) + 2, None, 0.5, (PAYLOADS[-1 - i],)),
        ))
        for i, p in enumerate(PAYLOADS)
    ]  # fmt: skip


def test_hostile_dfd_renders_as_literal_text() -> None:
    text = dfd_dot(hostile_system(), title=PAYLOADS[10])
    assert_dot_is_safe(text)
    assert {"label", "xlabel", "shape", "style"} <= dot_seen_attributes(text) <= ALLOWED_ATTRIBUTES
    texts = assert_svg_is_safe(render(text, "svg"))
    for payload in PAYLOADS[:13]:  # the rest are changed on purpose: control characters, entities, length
        assert clean_text(payload) in texts, payload
    assert 'He said "hi"' in texts and "ends with a backslash\\" in texts and "two trailing\\\\" in texts
    assert r"\N \G \L \E \T \H \n \l \r" in texts  # escString sequences are not expanded
    assert "line one line two three" in texts  # newlines become spaces; only our own \n break lines
    assert "nulbellescdel" in texts  # control characters stripped
    assert "&#1;&#xFFFE;&amp;&lt;b&gt;&foo;" in texts  # entities are not decoded by dot
    assert "A" * 199 + "\u2026" in texts and not any("A" * 200 in t for t in texts)


def test_hostile_svg_escapes_markup_in_the_raw_bytes() -> None:
    svg = render(dfd_dot(hostile_system(), title="t"), "svg").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&lt;&lt;b&gt;x&lt;/b&gt;&gt;" in svg
    assert "&lt;x&gt; URL=&quot;javascript:alert(1)&quot;" in svg  # shown as text, never an attribute


def test_hostile_attack_paths_render_as_literal_text() -> None:
    text = attack_path_dot(hostile_system(), hostile_paths(), title=PAYLOADS[5])
    assert_dot_is_safe(text)
    assert dot_seen_attributes(text) <= ALLOWED_ATTRIBUTES
    texts = assert_svg_is_safe(render(text, "svg"))
    assert "<script>alert(1)</script>" in texts  # the title and a profile name
    assert any(t.startswith("controls: ") and "<<b>x</b>>" in t for t in texts)


def test_png_of_hostile_names_renders() -> None:
    assert render(dfd_dot(hostile_system(), title="t"), "png").startswith(b"\x89PNG\r\n\x1a\n")


def test_tokenizer_catches_an_unquoted_value() -> None:
    with pytest.raises(AssertionError):
        assert_dot_is_safe("digraph g { a1 [label=<b>x</b>] }")
    with pytest.raises(AssertionError):
        assert_dot_is_safe('digraph g { a1 [URL="x"] }')
    with pytest.raises(AssertionError):
        assert_dot_is_safe('digraph g { evil [label="x"] }')


names = st.text(st.characters(codec="utf-8"), max_size=60)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=names, asset=names, other=names, flow=names, protocol=names, title=names, control=names)
def test_random_unicode_names_render_safely(
    zone: str, asset: str, other: str, flow: str, protocol: str, title: str, control: str
) -> None:
    snapshot = SystemSnapshot(
        zones=(ZoneData(id=1, name=zone, trust_level=0), ZoneData(id=2, name=zone[::-1], parent_id=1)),
        assets=(
            AssetData(id=1, name=asset, kind="api_gateway", zone_id=1),
            AssetData(id=2, name=other, kind="model_weights", zone_id=2, hosted_on_id=1),
        ),
        flows=(FlowData(id=1, name=flow, protocol=protocol, source_id=1, target_id=2, carries=(2,), encrypted=False),),
    )
    dfd = dfd_dot(snapshot, title=title)
    assert_dot_is_safe(dfd)
    texts = assert_svg_is_safe(render(dfd, "svg"))
    assert (clean_text(asset) or "asset #1") in texts
    paths = [DrawnPath(title, 2, 0.5, (PathHop(None, 1, None, 0.7, (control,)), PathHop(1, 2, 1, 0.7, ())))]
    attack = attack_path_dot(snapshot, paths, title=title)
    assert_dot_is_safe(attack)
    assert_svg_is_safe(render(attack, "svg"))
