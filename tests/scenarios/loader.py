"""Load a reference scenario (``../shared/scenarios/*.json``) into the engine's plain inputs.

The scenario format is described in ``../shared/scenarios/README.md``. The harness builds the
system exactly as written: its zones, assets with their properties and relations, its flows,
and exactly its attacker profiles; no controls are in force beyond what the properties imply.
Variants are applied to a fresh copy of the baseline (they never accumulate). Names the product
spells differently are mapped here and nowhere else:

- authentication: oidc, oauth, saml -> sso; certificate -> mtls; absent -> sso (the model's
  default; the README asks a product to use its default and say so);
- output_granularity: class -> label; probability, confidence, top_k -> score; logprobs -> logits;
- monitoring -> monitored; a flow's ``initiator`` names an asset: "from" side -> source.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, Coverage, implied_controls, standard_views
from threats.engine.library import Library
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData

AUTH = {"oidc": "sso", "oauth": "sso", "saml": "sso", "certificate": "mtls"}
GRANULARITY = {"class": "label", "probability": "score", "confidence": "score", "top_k": "score", "logprobs": "logits"}
DEFAULT_AUTH = "sso"


@dataclass
class Scenario:
    """A built scenario: engine inputs plus the name <-> id maps the expectations need."""

    name: str
    raw: dict[str, Any]
    snapshot: SystemSnapshot
    attackers: tuple[AttackerData, ...]
    controls: dict[str, frozenset[int]] = field(default_factory=dict)  # code -> asset ids in force
    asset_id: dict[str, int] = field(default_factory=dict)
    flow_id: dict[str, int] = field(default_factory=dict)
    attacker_id: dict[str, int] = field(default_factory=dict)

    @property
    def asset_name(self) -> dict[int, str]:
        return {v: k for k, v in self.asset_id.items()}

    @property
    def attacker_name(self) -> dict[int, str]:
        return {v: k for k, v in self.attacker_id.items()}

    def views(self, library: Library) -> dict[str, ControlsInForce]:
        known = {c.code for c in library.controls}
        implemented = {code: Coverage(assets=ids) for code, ids in self.controls.items() if code in known}
        return standard_views(implied=implied_controls(self.snapshot, known), implemented=implemented, planned={})


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def build(raw: dict[str, Any], variant: str | None = None) -> Scenario:
    """Build the baseline, or the baseline with one named variant applied."""
    data = copy.deepcopy(raw)
    # Ids come from the baseline's order, so that a finding keeps its key in every variant.
    zones = {z["id"]: i + 1 for i, z in enumerate(raw["zones"])}
    assets = {a["id"]: i + 1 for i, a in enumerate(raw["assets"])}
    base_flows = {f"{f['from']}->{f['to']}": i + 1 for i, f in enumerate(raw["flows"])}
    controls: dict[str, set[str]] = {}
    if variant is not None:
        change = data["variants"][variant]
        _apply(data, change)
        for entry in change.get("controls", []):
            controls.setdefault(entry["control"], set()).update(entry["on"])
    for a in data["assets"]:
        assets.setdefault(a["id"], len(assets) + 1)
    assets = {name: ident for name, ident in assets.items() if any(a["id"] == name for a in data["assets"])}
    flow_ids = {}
    for f in data["flows"]:
        name = f"{f['from']}->{f['to']}"
        flow_ids[name] = base_flows.get(name) or len(base_flows) + len(flow_ids) + 1
    snapshot = SystemSnapshot(
        zones=tuple(ZoneData(id=zones[z["id"]], name=z["id"], trust_level=z["trust"]) for z in data["zones"]),
        assets=tuple(_asset(a, assets, zones) for a in data["assets"]),
        flows=tuple(_flow(flow_ids[f"{f['from']}->{f['to']}"], f, assets) for f in data["flows"]),
    )
    attackers = tuple(
        AttackerData(
            id=i + 1,
            name=p["name"],
            capability=p["capability"],
            actor_type=p["actor_type"],
            entry_zone_ids=tuple(zones[e] for e in p["entry"] if e in zones),
            entry_asset_ids=tuple(assets[e] for e in p["entry"] if e in assets),
            attempts_per_year=float(p["attempts_per_year"]),
        )
        for i, p in enumerate(data["attackers"])
    )
    return Scenario(
        name=data["name"],
        raw=data,
        snapshot=snapshot,
        attackers=attackers,
        controls={code: frozenset(assets[a] for a in on if a in assets) for code, on in controls.items()},
        asset_id=assets,
        flow_id=flow_ids,
        attacker_id={p["name"]: i + 1 for i, p in enumerate(data["attackers"])},
    )


def _money(value: Any) -> tuple[float, float, float] | None:
    if value is None:
        return None
    low, likely, high = (float(v) for v in value)
    return (low, likely, high)


def _asset(a: dict[str, Any], ids: dict[str, int], zones: dict[str, int]) -> AssetData:
    value = _money(a.get("value")) or (0.0, 0.0, 0.0)
    auth = a.get("authentication", DEFAULT_AUTH)
    return AssetData(
        id=ids[a["id"]],
        name=a["id"],
        kind=a["kind"],
        zone_id=zones.get(a.get("zone", "")),
        hosted_on_id=ids.get(a.get("hosted_on", "")),
        stored_on=tuple(ids[h] for h in a.get("stored_on", []) if h in ids),
        loaded_on=tuple(ids[h] for h in a.get("loaded_on", []) if h in ids),
        serves=tuple(ids[m] for m in a.get("serves", []) if m in ids),
        internet_facing=bool(a.get("internet_facing", False)),
        authentication=AUTH.get(auth, auth),
        mfa=bool(a.get("mfa", False)),
        encrypted_at_rest=bool(a.get("encrypted_at_rest", False)),
        rate_limited=bool(a.get("rate_limited", False)),
        rate_limit_per_minute=a.get("rate_limit_per_minute") if a.get("rate_limited") else None,
        output_granularity=GRANULARITY.get(a.get("output_granularity", ""), a.get("output_granularity", "")),
        model_class=a.get("model_class", ""),
        logging=bool(a.get("logging", False)),
        monitored=bool(a.get("monitoring", False)),
        third_party=bool(a.get("third_party", False)),
        runs_untrusted_code=bool(a.get("runs_untrusted_code", False)),
        prompt_cache_shared=bool(a.get("prompt_cache_shared", False)),
        streaming=bool(a.get("streaming", False)),
        instances=int(a.get("instances", 1)),
        personnel=a.get("personnel", ""),
        criticality=int(a.get("criticality", 3)),
        size_gb=a.get("size_gb"),
        tags=tuple(a.get("tags", [])),
        value_min=value[0],
        value_likely=value[1],
        value_max=value[2],
        replication_value=_money(a.get("replication_value")),
        compute_cost_per_day=_money(a.get("compute_cost_per_day")),
    )


def _flow(flow_id: int, f: dict[str, Any], ids: dict[str, int]) -> FlowData:
    initiator = f.get("initiator", f["from"])
    return FlowData(
        id=flow_id,
        name=f"{f['from']}->{f['to']}",
        source_id=ids[f["from"]],
        target_id=ids[f["to"]],
        protocol=f.get("protocol", ""),
        authenticated=bool(f.get("authenticated", False)),
        encrypted=bool(f.get("encrypted", False)),
        bidirectional=bool(f.get("bidirectional", False)),
        carries=tuple(ids[c] for c in f.get("carries", []) if c in ids),
        initiator="target" if initiator == f["to"] and initiator != f["from"] else "source",
    )


def _apply(data: dict[str, Any], change: dict[str, Any]) -> None:
    """Apply one variant in place (see the README's variants table)."""
    for patch in change.get("set", []):
        patch = dict(patch)
        if "asset" in patch:
            name = patch.pop("asset")
            target = next(a for a in data["assets"] if a["id"] == name)
        elif "flow" in patch:
            name = patch.pop("flow")
            target = next(f for f in data["flows"] if f"{f['from']}->{f['to']}" == name)
        else:
            name = patch.pop("attacker")
            target = next(p for p in data["attackers"] if p["name"] == name)
        target.update(patch)
    gone = set(change.get("remove_assets", []))
    if gone:
        data["assets"] = [a for a in data["assets"] if a["id"] not in gone]
        data["flows"] = [f for f in data["flows"] if f["from"] not in gone and f["to"] not in gone]
        for a in data["assets"]:
            for rel in ("stored_on", "loaded_on", "serves"):
                if rel in a:
                    a[rel] = [x for x in a[rel] if x not in gone]
            if a.get("hosted_on") in gone:
                del a["hosted_on"]
        for f in data["flows"]:
            if "carries" in f:
                f["carries"] = [c for c in f["carries"] if c not in gone]
        for p in data["attackers"]:
            p["entry"] = [e for e in p["entry"] if e not in gone]
    data["assets"].extend(change.get("add_assets", []))
    dropped = set(change.get("remove_flows", []))
    data["flows"] = [f for f in data["flows"] if f"{f['from']}->{f['to']}" not in dropped]
    data["flows"].extend(change.get("add_flows", []))
