"""Build Graphviz DOT text for the data-flow and attack-path diagrams, safely and deterministically.

Every name in a system is typed by users, and Graphviz's DOT language has several ways to turn a
label into markup or file access (``knowledge/ecosystem.md`` §1.3). So nothing here forwards a
user string or attribute: node ids are made from integer ids (``a7``, ``z3``), attribute names
come from ``ALLOWED_ATTRIBUTES`` only, and every label goes through ``_quoted``, which always
quotes and escapes (``"``, ``\\``, ``&``), strips control characters and collapses newlines. Our own
line breaks are the only ``\\n`` in a label. The graphviz package's ``escape()`` is not enough on
its own: dot 2.43 also decodes HTML entities in plain labels, so ``&#1;`` became a raw control
character and made the SVG invalid XML; we escape ``&`` too.

Output is byte-identical for the same system whatever the row order (everything sorted by id),
so ``dot_hash`` of the text is the render cache key. Caps keep a huge system from producing a
graph that dot cannot lay out in time: the most critical assets are drawn, plus one summary node.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from threats.engine.vocab import WEIGHT_KINDS

_TEXT_ATTRIBUTES = {"label", "xlabel", "labelloc", "fontcolor", "fontsize", "fontname"}
_LOOK_ATTRIBUTES = {"shape", "style", "color", "fillcolor", "penwidth"}
_LAYOUT_ATTRIBUTES = {"dir", "arrowhead", "arrowtail", "rankdir", "compound"}
ALLOWED_ATTRIBUTES: frozenset[str] = frozenset(_TEXT_ATTRIBUTES | _LOOK_ATTRIBUTES | _LAYOUT_ATTRIBUTES)
MAX_LABEL = 200  # characters of one user string
MAX_LINE = 240  # safety net for a whole label line (user text plus our own suffix)
MAX_ZONE_DEPTH = 8  # deeper zones are drawn inside their depth-8 ancestor
FONT = "Helvetica,Arial,sans-serif"
ELLIPSIS = "\u2026"

# (shape, fill, kinds). Stores and data are cylinders, places that run code 3-D boxes, services
# components, repositories folders, people ellipses; weights get the crown-jewel gold.
_KIND_GROUPS = (
    ("cylinder", "#f9e79f", "model_weights checkpoint adapter"),
    ("cylinder", "#fdf2e9", "training_data eval_data embeddings"),
    ("note", "#fdf2e9", "system_prompt"),
    ("cylinder", "#eaf2f8", "object_store vector_store secrets_store"),
    ("folder", "#e8f8f5", "model_registry container_registry model_hub code_repository package_source"),
    ("box3d", "#ebedef", "training_cluster gpu_host workstation edge_device"),
    ("component", "#f4ecf7", "inference_endpoint api_gateway ai_agent agent_tool mlops_service notebook ci_pipeline"),
    ("component", "#f4ecf7", "identity_provider monitoring"),
    ("ellipse", "#fef9e7", "human_role"),
    ("box", "#fbeee6", "external_service"),
)
KIND_STYLE: dict[str, tuple[str, str]] = {
    kind: (shape, fill) for shape, fill, kinds in _KIND_GROUPS for kind in kinds.split()
}
DEFAULT_STYLE = ("box", "#ffffff")
# trust level -> (border, fill): red for the internet through blue for an isolated enclave.
TRUST_BORDER = ("#c0392b", "#d35400", "#9a7d0a", "#1e8449", "#1f618d")
TRUST_FILL = ("#fdedec", "#fef5e7", "#fcf8e3", "#eafaf1", "#eaf2f8")
RISKY = "#c0392b"
MUTED = "#7f8c8d"
BEST = "#922b21"

_SPACES = re.compile(r"\s+")  # newlines, tabs, \x1c-\x1f, U+2028/9 and friends
_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))


@dataclass(frozen=True, slots=True)
class PathHop:
    """One step of an attack path; ``source_id`` None is the virtual Internet node."""

    source_id: int | None
    target_id: int
    flow_id: int | None
    probability: float
    controls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DrawnPath:
    """A path of one attacker profile to one target, with its overall probability."""

    profile_name: str
    target_id: int
    probability: float
    hops: tuple[PathHop, ...]


def dot_hash(text: str) -> str:
    """The render cache key: sha256 of the DOT text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean_text(value: object, limit: int = MAX_LABEL) -> str:
    """One line of plain, printable text of at most ``limit`` characters (ellipsis when cut).

    Removes what can break or spoof the output rather than the layout: control characters and
    surrogates (invalid in XML and UTF-8), Unicode noncharacters and bidi overrides.
    """
    text = _SPACES.sub(" ", str(value)[: limit * 4])
    text = "".join(ch for ch in text if _printable(ch)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text


def _printable(ch: str) -> bool:
    code = ord(ch)
    if unicodedata.category(ch) in ("Cc", "Cs") or code in _BIDI:
        return False
    return not (0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE)


def _escape(text: str) -> str:
    """Make cleaned text a literal inside a DOT double-quoted escString."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def _quoted(*lines: str) -> str:
    """A quoted label; the ``\\n`` between lines is the only escape sequence we emit."""
    cleaned = (clean_text(line, MAX_LINE) for line in lines)
    return '"' + "\\n".join(_escape(line) for line in cleaned if line) + '"'


def _attrs(**attrs: object) -> str:
    """`` [k="v", ...]`` with allow-listed names only; every value quoted and escaped.

    ``label`` and ``xlabel`` take a sequence of lines; other values are single strings or numbers.
    """
    parts = []
    for name, value in sorted(attrs.items()):
        if name not in ALLOWED_ATTRIBUTES:
            raise ValueError(f"attribute {name!r} is not allowed in diagrams")
        lines = [str(line) for line in value] if isinstance(value, (list, tuple)) else [str(value)]
        parts.append(f"{name}={_quoted(*lines)}")
    return " [" + ", ".join(parts) + "]"


def _nid(prefix: str, ident: int) -> str:
    """A node id from an integer only, so no user text can become DOT syntax."""
    number = int(ident)
    return f"{prefix}{number}" if number >= 0 else f"{prefix}m{-number}"


def _header(kind: str, title: str) -> list[str]:
    return [
        f"digraph {kind} {{",
        f"  graph{_attrs(label=(clean_text(title),), rankdir='LR', compound='true', labelloc='t', fontname=FONT)}",
        f"  node{_attrs(fontname=FONT, fontsize=10, style='filled')}",
        f"  edge{_attrs(fontname=FONT, fontsize=9)}",
    ]


def _asset_node(asset: AssetData | None, ident: int, extra: Sequence[str] = (), **attrs: object) -> str:
    if asset is None:
        return f"{_nid('a', ident)}{_attrs(label=(f'asset #{int(ident)}', *extra), shape='box', **attrs)}"
    shape, fill = KIND_STYLE.get(asset.kind, DEFAULT_STYLE)
    style = "filled,bold" if asset.kind in WEIGHT_KINDS or asset.criticality == 5 else "filled"  # crown jewel
    if asset.kind == "external_service":
        style += ",dashed"
    lines = (
        clean_text(asset.name) or f"asset #{int(ident)}",
        f"{clean_text(asset.kind, 40)} \u00b7 crit {asset.criticality}",
    )
    merged: dict[str, object] = {"shape": shape, "fillcolor": fill, "style": style, **attrs}
    return f"{_nid('a', ident)}{_attrs(label=(*lines, *extra), **merged)}"


def _listing(items: Sequence[str], limit: int) -> str:
    """The first ``limit`` items joined, and how many more there are."""
    return ", ".join(items[:limit]) + (f" (+{len(items) - limit})" if len(items) > limit else "")


# ---------------------------------------------------------------- data-flow diagram


def _zone_parents(zones: dict[int, ZoneData]) -> dict[int, int | None]:
    """Parent links with missing parents dropped, cycles cut at their lowest id, depth capped."""
    parent: dict[int, int | None] = {
        zid: (z.parent_id if z.parent_id in zones and z.parent_id != zid else None) for zid, z in zones.items()
    }
    depth: dict[int, int] = {}
    node: int | None
    for start in sorted(parent):
        chain, node = [], start
        while node is not None and node not in depth and node not in chain:
            chain.append(node)
            node = parent[node]
        if node is not None and node not in depth:  # back on the chain: a cycle, cut at its lowest id
            cut = min(chain[chain.index(node) :])
            parent[cut], node, chain = None, None, chain[: chain.index(cut) + 1]
        for offset, zid in enumerate(reversed(chain), start=1):
            depth[zid] = (-1 if node is None else depth[node]) + offset
    capped = dict(parent)
    for zid in sorted(parent, key=lambda z: (depth[z], z)):
        up = parent[zid]
        if up is not None and depth[zid] > MAX_ZONE_DEPTH:
            capped[zid] = parent[up] if depth[up] == MAX_ZONE_DEPTH else capped[up]
    return capped


def _zone_tree(zones: dict[int, ZoneData], drawn: Sequence[AssetData], lines: list[str]) -> None:
    """Emit the zones as nested clusters holding their drawn assets; empty zones are skipped."""
    parent = _zone_parents(zones)
    members: dict[int | None, list[AssetData]] = {}
    for asset in drawn:
        members.setdefault(asset.zone_id if asset.zone_id in zones else None, []).append(asset)
    used: set[int] = set()
    for zid in [z for z in members if z is not None]:
        node: int | None = zid
        while node is not None and node not in used:
            used.add(node)
            node = parent[node]
    children: dict[int | None, list[int]] = {}
    for zid in sorted(used):
        children.setdefault(parent[zid], []).append(zid)

    def emit(zid: int | None, indent: str) -> None:
        if zid is not None:
            zone = zones[zid]
            level = min(max(zone.trust_level, 0), len(TRUST_BORDER) - 1)
            border, fill = TRUST_BORDER[level], TRUST_FILL[level]
            title = f"{clean_text(zone.name) or f'zone #{zid}'} (trust {zone.trust_level})"
            lines.append(f"{indent}subgraph cluster_{_nid('z', zid)} {{")
            style = _attrs(label=(title,), style="filled,rounded", color=border, fillcolor=fill, fontcolor=border)
            lines.append(f"{indent}  graph{style}")
            indent += "  "
        for asset in members.get(zid, ()):
            lines.append(f"{indent}{_asset_node(asset, asset.id)}")
        for child in children.get(zid, ()):
            emit(child, indent)
        if zid is not None:
            lines.append(f"{indent[:-2]}}}")

    emit(None, "  ")


def _flow_edge(flow: FlowData, assets: dict[int, AssetData]) -> str:
    risky = not (flow.encrypted and flow.authenticated)
    weights = [i for i in flow.carries if i in assets and assets[i].kind in WEIGHT_KINDS]
    label = [clean_text(flow.name)]
    if clean_text(flow.protocol):
        label.append(f"[{clean_text(flow.protocol)}]")
    if weights:
        names = [clean_text(assets[i].name, 60) or f"#{i}" for i in sorted(set(weights))]
        label.append(f"\u25c6 carries weights: {_listing(names, 3)}")
    label.append(
        ", ".join(w for w, ok in (("unencrypted", flow.encrypted), ("unauthenticated", flow.authenticated)) if not ok)
    )
    attrs: dict[str, object] = {"color": RISKY, "fontcolor": RISKY, "style": "dashed"} if risky else {}
    if weights:
        attrs["penwidth"] = 2
    if flow.bidirectional:
        attrs["dir"] = "both"
    return f"{_nid('a', flow.source_id)} -> {_nid('a', flow.target_id)}{_attrs(xlabel=label, **attrs)}"


def dfd_dot(snapshot: SystemSnapshot, *, title: str, max_nodes: int = 2000, max_edges: int | None = None) -> str:
    """The data-flow diagram: zones as nested clusters, assets shaped by kind, flows as edges.

    Edge text is an ``xlabel`` (placed after layout), not a ``label``: dot 2.43 turns edge labels
    into extra nodes and ranks, and with clusters that made 100-asset systems fail ("trouble in
    init_rank", "lost edge", exit 1) and 300-asset ones take minutes.

    At most ``max_nodes`` assets are drawn (highest criticality, then lowest id) and at most
    ``max_edges`` flows (default 3 per drawn asset, lowest ids); what is left out is counted on
    one summary node so that the reader knows the picture is partial.
    """
    max_nodes = max(int(max_nodes), 0)
    edge_cap = 3 * max_nodes if max_edges is None else max(int(max_edges), 0)
    assets = {a.id: a for a in snapshot.assets}
    zones = {z.id: z for z in snapshot.zones}
    ranked = sorted(assets.values(), key=lambda a: (-a.criticality, a.id))
    drawn = sorted(ranked[:max_nodes], key=lambda a: a.id)
    shown = {a.id for a in drawn}
    lines = _header("dfd", title)
    _zone_tree(zones, drawn, lines)
    hosted = [a for a in drawn if a.hosted_on_id in shown and a.hosted_on_id != a.id]
    for asset in hosted:
        style = _attrs(xlabel=("hosted on",), style="dashed", color=MUTED, fontcolor=MUTED, arrowhead="empty")
        lines.append(f"  {_nid('a', asset.id)} -> {_nid('a', int(asset.hosted_on_id or 0))}{style}")
    flows = sorted((f for f in snapshot.flows if f.source_id in shown and f.target_id in shown), key=lambda f: f.id)
    lines.extend(f"  {_flow_edge(flow, assets)}" for flow in flows[:edge_cap])
    hidden_assets, hidden_flows = len(assets) - len(drawn), len(snapshot.flows) - min(len(flows), edge_cap)
    if hidden_assets or len(flows) > edge_cap:
        summary = (f"{hidden_assets} more assets not drawn" if hidden_assets else "", f"{hidden_flows} flows not drawn")
        lines.append(f"  more{_attrs(label=summary, shape='note', style='filled,dashed', fillcolor='#f2f3f4')}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- attack-path diagram


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _order(*ids: int | None) -> tuple[float, ...]:
    """A sort key for ids where None (the Internet, or no flow) sorts first."""
    return tuple(-math.inf if i is None else i for i in ids)


def _path_key(path: DrawnPath) -> tuple[object, ...]:
    hops = tuple(_order(h.source_id, h.target_id, h.flow_id) for h in path.hops)
    return (-_finite(path.probability), path.profile_name, path.target_id, hops)


def _path_nodes(path: DrawnPath) -> set[int | None]:
    """Asset ids on the path; None stands for the virtual Internet node."""
    nodes: set[int | None] = {path.target_id}
    for hop in path.hops:
        nodes.update((hop.source_id, hop.target_id))
    return nodes


def _ref(node: int | None) -> str:
    return "inet" if node is None else _nid("a", node)


def _choose(paths: Sequence[DrawnPath], max_nodes: int) -> list[DrawnPath]:
    """The most probable paths, in that order, whose nodes (entry nodes included) fit the cap."""
    chosen: list[DrawnPath] = []
    nodes: set[int | None] = set()
    profiles: set[str] = set()
    for path in sorted(paths, key=_path_key):
        new_nodes, new_profiles = nodes | _path_nodes(path), profiles | {path.profile_name}
        if len(new_nodes) + len(new_profiles) <= max_nodes:
            chosen.append(path)
            nodes, profiles = new_nodes, new_profiles
    return chosen


def _prob_text(values: set[float]) -> str:
    low, high = f"{min(values):.2f}", f"{max(values):.2f}"
    return f"p={low}" if low == high else f"p={low}\u2013{high}"


def attack_path_dot(snapshot: SystemSnapshot, paths: Sequence[DrawnPath], *, title: str, max_nodes: int = 300) -> str:
    """The attack paths: attacker entry nodes, the union of hops, probabilities and controls.

    Only nodes on the drawn paths appear. The most probable path is drawn thick and dark red;
    every path's target is bold gold. Paths are kept from the most probable down while their
    nodes (assets, Internet, one entry node per profile) fit ``max_nodes``; the rest are counted
    on a note.
    """
    chosen = _choose(paths, max(int(max_nodes), 0))
    assets = {a.id: a for a in snapshot.assets}
    flows = {f.id: f for f in snapshot.flows}
    zones = {z.id: z for z in snapshot.zones}
    profiles = {name: f"p{i}" for i, name in enumerate(sorted({p.profile_name for p in chosen}))}
    target_p: dict[int, float] = {}
    edges: dict[tuple[int | None, int, int | None], tuple[set[float], set[str], bool]] = {}
    entries: dict[tuple[str, int | None], bool] = {}
    nodes: set[int | None] = set()
    for rank, path in enumerate(chosen):
        emphasised = rank == 0
        nodes |= _path_nodes(path)
        target_p[path.target_id] = max(target_p.get(path.target_id, 0.0), _finite(path.probability))
        start = path.hops[0].source_id if path.hops else path.target_id
        key = (profiles[path.profile_name], start)
        entries[key] = entries.get(key, False) or emphasised
        for hop in path.hops:
            edge = (hop.source_id, hop.target_id, hop.flow_id)
            probs, controls, strong = edges.get(edge, (set(), set(), False))
            probs.add(_finite(hop.probability))
            controls.update(clean_text(c, 40) for c in hop.controls)
            edges[edge] = (probs, controls, strong or emphasised)

    lines = _header("attack_paths", title)
    for name, node in sorted(profiles.items(), key=lambda item: item[1]):
        who = ("attacker", clean_text(name) or "unnamed")
        lines.append(f"  {node}{_attrs(label=who, shape='octagon', fillcolor='#f5b7b1', color=RISKY)}")
    if None in nodes:
        lines.append(f"  inet{_attrs(label=('Internet',), shape='ellipse', fillcolor='#fdedec', color=RISKY)}")
    for ident in sorted(n for n in nodes if n is not None):
        asset = assets.get(ident)
        zone = zones.get(asset.zone_id) if asset is not None and asset.zone_id is not None else None
        extra = [f"{clean_text(zone.name, 60)} (trust {zone.trust_level})"] if zone else []
        attrs: dict[str, object] = {}
        if ident in target_p:
            extra.append(f"target, best P={target_p[ident]:.2f}")
            attrs = {"fillcolor": "#f7dc6f", "penwidth": 2.5, "style": "filled,bold", "color": BEST}
        lines.append(f"  {_asset_node(asset, ident, extra, **attrs)}")
    for (profile, start), strong in sorted(entries.items(), key=lambda item: (item[0][0], _order(item[0][1]))):
        look = {"penwidth": 3, "color": BEST} if strong else {"color": MUTED}
        lines.append(f"  {profile} -> {_ref(start)}{_attrs(label=('entry',), style='dashed', **look)}")
    for (src, dst, flow_id), (probs, controls, strong) in sorted(edges.items(), key=lambda item: _order(*item[0])):
        flow = flows.get(flow_id) if flow_id is not None else None
        label = [_prob_text(probs), f"via {clean_text(flow.name, 60)}" if flow and clean_text(flow.name) else ""]
        label.append("controls: " + _listing(sorted(controls - {""}), 6) if controls - {""} else "")
        look = {"penwidth": 3, "color": BEST, "fontcolor": BEST} if strong else {"penwidth": 1.2, "color": MUTED}
        lines.append(f"  {_ref(src)} -> {_nid('a', dst)}{_attrs(label=label, **look)}")
    if len(chosen) < len(paths):
        note = (f"{len(paths) - len(chosen)} more paths not drawn",)
        lines.append(f"  more{_attrs(label=note, shape='note', style='filled,dashed', fillcolor='#f2f3f4')}")
    lines.append("}")
    return "\n".join(lines) + "\n"
