"""The dot runner's limits and failures, and the SVG sanitiser, with the real ``dot`` binary."""

from __future__ import annotations

import random
import resource
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

import threats.render as render_module
from threats.engine.dot import dfd_dot
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from threats.render import LARGE_FLAGS, RenderError, _limits, graph_size, layout_flags, render, sanitize_svg

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")

SVG = "{http://www.w3.org/2000/svg}"
KINDS = ("workstation", "api_gateway", "inference_endpoint", "gpu_host", "object_store", "model_weights")


def layered_system(n: int, seed: int = 7) -> SystemSnapshot:
    """Zones per tier with nested segments; ~3 flows per asset, mostly to the same or next tier."""
    rng = random.Random(seed)
    zones = [ZoneData(id=t + 1, name=f"tier {t}", trust_level=min(t, 4)) for t in range(len(KINDS))]
    zones += [
        ZoneData(id=len(KINDS) + i + 1, name=f"segment {i}", parent_id=i % len(KINDS) + 1) for i in range(n // 25)
    ]
    assets = []
    for i in range(1, n + 1):
        tier = rng.randrange(len(KINDS))
        zone = rng.choice([z.id for z in zones if z.id == tier + 1 or z.parent_id == tier + 1])
        assets.append(AssetData(id=i, name=f"asset {i}", kind=KINDS[tier], zone_id=zone, criticality=rng.randint(1, 5)))
    by_tier: dict[str, list[int]] = {}
    for asset in assets:
        by_tier.setdefault(asset.kind, []).append(asset.id)
    flows = []
    for asset in assets:
        tier = KINDS.index(asset.kind)
        for _ in range(3):
            pool = by_tier.get(KINDS[min(tier + rng.randint(0, 1), len(KINDS) - 1)]) or [asset.id]
            target = rng.randint(1, n) if rng.random() < 0.1 else rng.choice(pool)
            flows.append(FlowData(id=len(flows) + 1, name=f"f{len(flows) + 1}", source_id=asset.id, target_id=target))
    return SystemSnapshot(zones=tuple(zones), assets=tuple(assets), flows=tuple(flows))


@pytest.fixture(scope="module")
def small_dot() -> str:
    return dfd_dot(layered_system(30), title="Small")


def test_renders_svg_and_png(small_dot: str) -> None:
    svg = render(small_dot, "svg")
    root = ET.fromstring(svg)  # noqa: S314 - our own dot output
    assert root.tag == f"{SVG}svg"
    assert any(t.text == "asset 1" for t in root.iter(f"{SVG}text"))
    assert render(small_dot, "png").startswith(b"\x89PNG\r\n\x1a\n")


def test_a_5000_asset_system_renders_capped_within_the_default_timeout() -> None:
    text = dfd_dot(layered_system(5000), title="Big")
    nodes, _ = graph_size(text)
    assert nodes == 2001  # 2,000 assets and the summary node
    start = time.perf_counter()
    svg = render(text, "svg")  # default timeout: 10 s
    assert time.perf_counter() - start < 10
    assert b"3000 more assets not drawn" in svg


def test_timeout_raises() -> None:
    text = dfd_dot(layered_system(300), title="Mid")
    with pytest.raises(RenderError, match="longer than 0.001 s"):
        render(text, "svg", timeout=0.001)
    start = time.perf_counter()
    with pytest.raises(RenderError, match="longer than 1 s"):
        render(tangled_dot(), "svg", timeout=1, flags=())
    assert time.perf_counter() - start < 5  # the child is killed, not waited for


def tangled_dot(nodes: int = 300, edges: int = 900) -> str:
    """Random edges with edge labels and no layout caps: dot needs minutes (over 20 s measured)."""
    rng = random.Random(1)
    lines = [f'  n{i % nodes} -> n{rng.randrange(nodes)} [label="edge {i}"]' for i in range(edges)]
    return "digraph g {\n" + "\n".join(lines) + "\n}\n"


def test_cpu_limit_kills_a_runaway_layout() -> None:
    start = time.perf_counter()
    with pytest.raises(RenderError, match="CPU limit of 1 s"):
        render(tangled_dot(), "svg", cpu_seconds=1, timeout=60, flags=())
    assert time.perf_counter() - start < 10


def test_garbage_input_raises_with_dots_message() -> None:
    with pytest.raises(RenderError, match="exit code 1: .*syntax error"):
        render("this is { not dot", "svg")


def test_oversize_input_is_refused_before_running_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("dot must not run")

    monkeypatch.setattr(render_module.subprocess, "run", no_run)
    with pytest.raises(RenderError, match="over the 100-byte limit"):
        render("digraph g { " + "a; " * 100 + "}", "svg", max_bytes_in=100)
    with pytest.raises(RenderError, match="over the 2,000,000-byte limit"):
        render("x" * 2_000_001, "svg")


def test_missing_dot_binary_raises(monkeypatch: pytest.MonkeyPatch, small_dot: str) -> None:
    monkeypatch.setattr(render_module, "SYSTEM_PATH", "/nonexistent")
    with pytest.raises(RenderError, match="'dot' was not found"):
        render(small_dot, "svg")


def test_bad_arguments_raise(small_dot: str) -> None:
    with pytest.raises(RenderError, match="unsupported format"):
        render(small_dot, "pdf")  # type: ignore[arg-type]
    with pytest.raises(RenderError, match="not valid UTF-8"):
        render('digraph g { a [label="\ud800"] }', "svg")


def test_memory_limit_is_enforced() -> None:
    text = dfd_dot(layered_system(1000), title="Heavy")
    with pytest.raises(RenderError, match="SIG"):  # dot 2.43 crashes rather than reporting
        render(text, "svg", memory_bytes=32 * 1024 * 1024)


def test_child_limits_are_applied() -> None:
    names = "('RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE')"
    probe = f"import resource as r; print(*(r.getrlimit(getattr(r, n))[0] for n in {names}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], preexec_fn=_limits(7, 1024**3), capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["7", str(1024**3), str(50 * 1024**2), "64"]
    assert resource.getrlimit(resource.RLIMIT_CPU)[0] != 7  # the parent is untouched


def test_layout_flags_scale_with_size() -> None:
    assert layout_flags(50, 150) == []
    assert "-Gnslimit=0.5" in layout_flags(300, 900)
    assert "-Gnslimit=0.2" in layout_flags(1000)
    assert layout_flags(2000) == list(LARGE_FLAGS) and "-Gsplines=line" in LARGE_FLAGS
    assert layout_flags(100, 6000) == list(LARGE_FLAGS)  # few nodes, very many edges
    assert graph_size(
        'digraph g {\n  graph [x="1"]\n  a1 [label="a"]\n  a2 [label="b"]\n  a1 -> a2 [label="c"]\n}'
    ) == (2, 1)


# ---------------------------------------------------------------- sanitize_svg

CRAFTED = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"
 "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)" width="10pt">
<script>alert(2)</script>
<g id="graph0" class="graph" onclick="alert(3)">
<a xlink:href="javascript:alert(4)" xlink:title="x"><text x="1" y="2">kept text</text></a>tail
<image href="file:///etc/passwd" width="10" height="10"/>
<image xlink:href="/etc/passwd"/>
<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>
<set attributeName="href" to="javascript:alert(5)"/>
<use xlink:href="#graph0"/>
<use href="https://evil.example/x.svg#a"/>
<polygon fill="url(#grad)" points="0,0 1,1"/>
<rect style="fill: url(https://evil.example/track)"/>
</g>
</svg>
"""


def test_sanitize_svg_strips_scripts_handlers_links_and_images() -> None:
    cleaned = sanitize_svg(CRAFTED)
    root = ET.fromstring(cleaned)  # noqa: S314
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags == {"svg", "g", "text", "use", "polygon", "rect"}
    for element in root.iter():
        for key, value in element.attrib.items():
            assert not key.rsplit("}", 1)[-1].startswith("on")
            assert "javascript:" not in value and "file:" not in value and "evil.example" not in value
    uses = [el.attrib for el in root.iter(f"{SVG}use")]
    assert uses == [{"{http://www.w3.org/1999/xlink}href": "#graph0"}, {}]  # local refs stay
    assert root.find(f".//{SVG}polygon").attrib["fill"] == "url(#grad)"  # type: ignore[union-attr]
    assert b"kept text" in cleaned and b"tail" in cleaned  # <a> unwrapped, not dropped
    assert b"alert" not in cleaned and b"passwd" not in cleaned and b"html" not in cleaned


def test_sanitize_svg_refuses_entities_and_other_doctypes() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    )
    with pytest.raises(RenderError, match="document type or entity"):
        sanitize_svg(bomb)
    with pytest.raises(RenderError, match="not well-formed"):
        sanitize_svg(b"<svg")
    with pytest.raises(RenderError, match="not an SVG"):
        sanitize_svg(b"<html/>")


def test_sanitize_keeps_a_real_diagram_intact(small_dot: str) -> None:
    svg = render(small_dot, "svg")
    cleaned = sanitize_svg(svg)
    before, after = ET.fromstring(svg), ET.fromstring(cleaned)  # noqa: S314
    assert [el.tag for el in before.iter()] == [el.tag for el in after.iter()]
    assert [el.text for el in before.iter(f"{SVG}text")] == [el.text for el in after.iter(f"{SVG}text")]
