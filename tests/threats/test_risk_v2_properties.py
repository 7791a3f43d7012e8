"""Properties of risk method v2 on random systems, priced with the curated library.

Bounds (a jewel at most once a year), the views' order, inherent risk that no control and no
control-like property can move, controls that never raise a figure, and actors that bind
techniques: these must hold for systems nobody tuned the library to.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from threats.engine.attackers import AttackerData
from threats.engine.controls import Coverage, implied_controls, standard_views
from threats.engine.library import Library, load_library
from threats.engine.results import RiskResult
from threats.engine.risk import compute_risk
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from threats.engine.values import compute_cost

EXAMPLES = hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLACES = (
    "object_store",
    "model_registry",
    "vector_store",
    "gpu_host",
    "training_cluster",
    "workstation",
    "ci_pipeline",
    "notebook",
    "secrets_store",
    "package_source",
    "mlops_service",
)
INTERFACES = ("inference_endpoint", "api_gateway", "ai_agent", "agent_tool")
DATA = ("model_weights", "checkpoint", "adapter", "training_data", "embeddings", "system_prompt")
AUTH = ("none", "password", "api_key", "token", "sso", "mtls", "iam")
STRENGTHEN = ("authentication", "mfa", "encrypted_at_rest", "rate_limited", "monitored", "logging", "output")


@functools.cache
def library() -> Library:
    root = Path(settings.BASE_DIR)
    return load_library(
        (root / "threats/library/threats.yaml").read_bytes(), (root / "threats/library/controls.yaml").read_bytes()
    )


@st.composite
def systems(draw: st.DrawFn) -> tuple[SystemSnapshot, tuple[AttackerData, ...]]:
    zones = (ZoneData(id=1, name="internet", trust_level=0),) + tuple(
        ZoneData(id=z, name=f"z{z}", trust_level=draw(st.integers(1, 4))) for z in range(2, draw(st.integers(2, 4)) + 1)
    )
    zone_ids = [z.id for z in zones]
    n_places = draw(st.integers(2, 7))
    assets: list[AssetData] = []
    for i in range(1, n_places + 1):
        kind = draw(st.sampled_from(PLACES + INTERFACES + ("human_role",)))
        iface = kind in INTERFACES
        auth = draw(st.sampled_from(AUTH))
        assets.append(
            AssetData(
                id=i,
                name=f"a{i}",
                kind=kind,
                zone_id=draw(st.sampled_from(zone_ids)),
                internet_facing=draw(st.booleans()),
                authentication=auth,
                mfa=auth != "none" and draw(st.booleans()),
                logging=draw(st.booleans()),
                monitored=draw(st.booleans()),
                rate_limited=iface and draw(st.booleans()),
                model_class=draw(st.sampled_from(("llm", "classifier"))) if iface else "",
                output_granularity=draw(st.sampled_from(("text", "label", "score", "logits"))) if iface else "",
                personnel=draw(st.sampled_from(("employee", "contractor", "vendor"))) if kind == "human_role" else "",
                runs_untrusted_code=kind == "ai_agent" and draw(st.booleans()),
                compute_cost_per_day=(100.0, 1000.0, 5000.0) if iface and draw(st.booleans()) else None,
            )
        )
    holders = [a.id for a in assets if a.kind not in INTERFACES + ("human_role",)]
    ifaces = [a.id for a in assets if a.kind in INTERFACES]
    for j in range(n_places + 1, n_places + 1 + draw(st.integers(1, 3))):
        low = draw(st.floats(0, 1e6))
        likely = low + draw(st.floats(0, 5e6))
        high = likely + draw(st.floats(0, 1e7))
        kind = draw(st.sampled_from(DATA))
        stored = tuple(draw(st.lists(st.sampled_from(holders), max_size=3, unique=True))) if holders else ()
        loaded = tuple(draw(st.lists(st.sampled_from(holders), max_size=2, unique=True))) if holders else ()
        assets.append(
            AssetData(
                id=j,
                name=f"j{j}",
                kind=kind,
                value_min=low,
                value_likely=likely,
                value_max=high,
                stored_on=stored,
                loaded_on=loaded,
                encrypted_at_rest=draw(st.booleans()),
            )
        )
    models = [a.id for a in assets if a.kind in ("model_weights", "checkpoint", "adapter")]
    assets = [
        replace(a, serves=tuple(draw(st.lists(st.sampled_from(models), max_size=1))))
        if a.id in ifaces and models
        else a
        for a in assets
    ]
    ids = [a.id for a in assets[:n_places]]
    flows = []
    for f, (s, t) in enumerate(
        draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=10, unique=True))
    ):
        if s != t:
            flows.append(
                FlowData(
                    id=f + 1,
                    source_id=s,
                    target_id=t,
                    authenticated=draw(st.booleans()),
                    encrypted=draw(st.booleans()),
                    initiator=draw(st.sampled_from(("source", "target"))),
                )
            )
    attackers = []
    for p in range(1, draw(st.integers(1, 3)) + 1):
        actor = draw(st.sampled_from(("external", "insider", "supplier", "physical")))
        entry_assets = tuple(draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)))
        entry_zones = (
            (1,)
            if actor == "external" and draw(st.booleans())
            else tuple(draw(st.lists(st.sampled_from(zone_ids), max_size=1)))
        )
        attackers.append(
            AttackerData(
                id=p,
                name=f"p{p}",
                capability=draw(st.sampled_from(("OC1", "OC2", "OC3", "OC4", "OC5"))),
                actor_type=actor,
                entry_asset_ids=entry_assets,
                entry_zone_ids=entry_zones,
                attempts_per_year=draw(st.floats(0.1, 20)),
            )
        )
    return SystemSnapshot(zones=zones, assets=tuple(assets), flows=tuple(flows)), tuple(attackers)


def price(
    snapshot: SystemSnapshot, attackers: tuple[AttackerData, ...], *, implemented=None, planned=None
) -> RiskResult:  # type: ignore[no-untyped-def]
    lib = library()
    views = standard_views(
        implied=implied_controls(snapshot, {c.code for c in lib.controls}),
        implemented=implemented or {},
        planned=planned or {},
    )
    return compute_risk(snapshot, lib, attackers, views, seed=5, draws=400, savings_top=3, explain_top=10**6)


def _strengthen(asset: AssetData, prop: str) -> AssetData:
    if prop == "authentication":
        return replace(asset, authentication="sso" if asset.authentication == "none" else asset.authentication)
    if prop == "mfa":
        return replace(asset, mfa=asset.authentication != "none")
    if prop == "output":
        return replace(asset, output_granularity="text" if asset.output_granularity else "")
    if prop == "rate_limited":
        return replace(asset, rate_limited=True, rate_limit_per_minute=10)
    return replace(asset, **{prop: True})  # type: ignore[arg-type]


@EXAMPLES
@given(systems())
def test_a_jewel_costs_at_most_its_value_and_the_system_at_most_its_jewels(system) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    r = price(snapshot, attackers)
    cap = 0.0
    for jewel in r.jewels.values():
        for view in jewel.views.values():
            assert view.expected <= jewel.value_mean * (1 + 1e-9) + 1e-6
            assert view.p90 <= jewel.value[2] * (1 + 1e-9) + 1e-6
        cap += jewel.value[2]
    assets = {a.id: a for a in snapshot.assets}
    compute = sum(365 * compute_cost(assets[e])[2] for e in r.compute)
    for view in r.system.values():
        assert view.expected <= cap + compute + 1e-6
        assert view.p90 <= cap + compute + 1e-6
    for f in r.findings.values():
        assert f.views["current"].loss <= sum(j.value_mean for j in r.jewels.values()) + compute + 1e-6


@EXAMPLES
@given(systems(), st.data())
def test_views_are_ordered_and_inherent_ignores_controls(system, data) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    assets = [a.id for a in snapshot.assets]
    code = data.draw(st.sampled_from([c.code for c in library().controls]))
    covered = data.draw(
        st.one_of(st.none(), st.sets(st.sampled_from(assets), min_size=1).map(lambda s: Coverage(assets=frozenset(s))))
    )
    base = price(snapshot, attackers)
    planned = price(snapshot, attackers, planned={code: covered})
    for key, f in planned.findings.items():
        v = f.views
        assert v["projected"].loss <= v["current"].loss * (1 + 1e-9) + 1e-9, key
        assert v["current"].loss <= v["inherent"].loss * (1 + 1e-9) + 1e-9, key
        assert v["inherent"].loss == base.findings[key].views["inherent"].loss, key
    for view in ("projected", "current"):
        assert (
            planned.system[view].expected
            <= planned.system["current" if view == "projected" else "inherent"].expected * (1 + 1e-9) + 1e-9
        )
    assert planned.system["inherent"].expected == base.system["inherent"].expected


@EXAMPLES
@given(systems(), st.data())
def test_an_effective_control_never_raises_any_figure(system, data) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    code = data.draw(st.sampled_from([c.code for c in library().controls]))
    target = data.draw(st.sampled_from([a.id for a in snapshot.assets]))
    base = price(snapshot, attackers)
    more = price(snapshot, attackers, implemented={code: Coverage(assets=frozenset({target}))})
    assert more.system["current"].expected <= base.system["current"].expected * (1 + 1e-9) + 1e-9
    for jid, j in more.jewels.items():
        assert j.views["current"].expected <= base.jewels[jid].views["current"].expected * (1 + 1e-9) + 1e-9
    for key, f in more.findings.items():
        old = base.findings[key].views["current"]
        assert f.views["current"].loss <= old.loss * (1 + 1e-9) + 1e-9, key
        assert f.views["current"].frequency <= old.frequency * (1 + 1e-9) + 1e-12, key


@EXAMPLES
@given(systems(), st.data())
def test_a_control_like_property_never_moves_inherent(system, data) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    i = data.draw(st.integers(0, len(snapshot.assets) - 1))
    prop = data.draw(st.sampled_from(STRENGTHEN))
    changed = list(snapshot.assets)
    changed[i] = _strengthen(changed[i], prop)
    base, after = price(snapshot, attackers), price(replace(snapshot, assets=tuple(changed)), attackers)
    assert after.system["inherent"].expected == base.system["inherent"].expected
    for jid, j in after.jewels.items():
        assert j.views["inherent"].expected == base.jewels[jid].views["inherent"].expected
    for key in after.findings.keys() & base.findings.keys():
        assert after.findings[key].views["inherent"].loss == base.findings[key].views["inherent"].loss, key


@EXAMPLES
@given(systems())
def test_techniques_need_their_actor(system) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    r = price(snapshot, attackers)
    actors = {t.code: t.actors for t in library().threats}
    kind = {a.id: a.actor_type for a in attackers}
    for f in r.findings.values():
        for view in f.views.values():
            for p in view.explanation["profiles"]:
                if kind[p["attacker_id"]] not in actors[f.threat_code]:
                    assert p["frequency"] == 0, (f.key, p["name"])


def only_door(value: float, *, extra: int = 0, attempts: float = 2) -> tuple[SystemSnapshot, AttackerData]:
    """Weights (value/2, value, 3 value) stored on an open, internet-facing bucket (asset 1), the
    only way to them, plus ``extra`` unrelated assets, and an OC1 scanner from the internet."""
    zones = (ZoneData(id=1, name="internet", trust_level=0), ZoneData(id=2, name="inside", trust_level=2))
    bucket = AssetData(id=1, name="bucket", kind="object_store", zone_id=2, internet_facing=True, authentication="none")
    weights = AssetData(
        id=2,
        name="weights",
        kind="model_weights",
        value_min=value / 2,
        value_likely=value,
        value_max=value * 3,
        stored_on=(1,),
    )
    others = tuple(AssetData(id=10 + k, name=f"o{k}", kind="monitoring", zone_id=2) for k in range(extra))
    scanner = AttackerData(id=1, name="scanner", capability="OC1", entry_zone_ids=(1,), attempts_per_year=attempts)
    return SystemSnapshot(zones=zones, assets=(bucket, weights, *others)), scanner


@EXAMPLES
@given(st.floats(1e5, 1e8), st.integers(0, 3))
def test_the_only_route_to_a_jewel_saves_when_fixed(value: float, extra: int) -> None:
    """An open, internet-facing bucket is the only way to the weights: fixing the door saves."""
    snapshot, scanner = only_door(value, extra=extra)
    r = price(snapshot, (scanner,))
    door = r.findings[("T-EXPOSED-STORE", "asset", 1)].views["current"]
    assert door.saving is not None and door.saving > 0
    assert door.loss >= door.saving * (1 - 1e-9)


_SHARES = st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4).map(lambda xs: tuple(sorted(set(xs), reverse=True)))


@EXAMPLES
@given(
    st.lists(
        st.tuples(st.floats(0, 1e6), st.floats(0, 1e7), st.floats(0, 1e8), _SHARES, st.floats(0, 30)),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 2**31),
)
def test_no_simulated_year_loses_more_than_a_jewels_max(specs, seed) -> None:  # type: ignore[no-untyped-def]
    """However often it is stolen and in however many ways, one year costs at most the value's max."""
    from threats.engine.simulate import JewelRates, simulate

    rows = []
    for k, (a, b, c, shares, rate) in enumerate(specs):
        low, likely, high = sorted((a, b, c))
        rows.append(JewelRates(f"j{k}", (low, likely, high), shares, tuple(rate for _ in shares)))
    sim = simulate([rows], [[]], seed=seed, draws=2000)
    cap = 0.0
    for k, row in enumerate(rows):
        assert sim.jewel_worst[0, k] <= row.value[2] * (1 + 1e-9) + 1e-6
        assert sim.jewel_mean[0, k] <= sim.jewel_worst[0, k] + 1e-6
        cap += row.value[2]
    assert sim.system_p90[0] <= cap * (1 + 1e-9) + 1e-6
