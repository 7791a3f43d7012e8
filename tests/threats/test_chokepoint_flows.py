"""The weighted minimum cut over assets and flows (issue 15, "What to do first" §3).

A flow is cut where the engine reads its controls: the techniques on the flow (interception of
the weights it carries). An internet-facing notebook receives weights over an unencrypted flow,
which therefore crosses the internet: encrypting that flow (about 2k a year) separates the crew
from the weights on its own, while hardening the notebook (about 5k) still leaves the wire open
to a tap. Once the flow is encrypted, no action is left to place on it: it is never cut and the
tap is listed as a theft no hardening of the way stops. On random systems whose flows carry
jewels, the cut still separates every attacker from every jewel, and never names a flow that no
action could harden.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.threats.cut_check import advised_cut, in_force, unseparated
from tests.threats.test_risk_v2_properties import library, systems
from threats.engine.actions import flow_actions
from threats.engine.advisor import Evaluator, candidates, plan_for
from threats.engine.attackers import AttackerData
from threats.engine.chokepoints import weighted_cut
from threats.engine.controls import ControlsInForce
from threats.engine.jewels import is_jewel
from threats.engine.risk import current_paths_view
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData

CUTS = hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FLOW = 7


def _in_force(snapshot: SystemSnapshot) -> ControlsInForce:
    return in_force(snapshot, library())


def jump_host(*, encrypted: bool = False, name: str = "nightly <push> & sync") -> tuple[SystemSnapshot, AttackerData]:
    """Weights on a locked-down store (asset 1) pushed to an open, internet-facing notebook
    (asset 2) over flow 7; the store opens the connection, so nothing moves from the notebook
    back to it. An OC2 crew starts on the internet."""
    zones = (ZoneData(id=1, name="internet", trust_level=0), ZoneData(id=2, name="dc", trust_level=3))
    store = AssetData(
        id=1,
        name="store",
        kind="object_store",
        zone_id=2,
        authentication="iam",
        mfa=True,
        encrypted_at_rest=True,
        logging=True,
        monitored=True,
    )
    jump = AssetData(id=2, name="jump", kind="notebook", zone_id=2, internet_facing=True, authentication="none")
    weights = AssetData(
        id=3,
        name="weights",
        kind="model_weights",
        value_min=5e6,
        value_likely=1e7,
        value_max=2e7,
        stored_on=(1,),
        encrypted_at_rest=True,
    )
    flow = FlowData(
        id=FLOW, name=name, source_id=1, target_id=2, encrypted=encrypted, authenticated=False, carries=(3,)
    )
    crew = AttackerData(id=1, name="crew", capability="OC2", entry_zone_ids=(1,), attempts_per_year=2)
    return SystemSnapshot(zones=zones, assets=(store, jump, weights), flows=(flow,)), crew


def test_a_flow_that_is_the_cheapest_separator_is_the_cut() -> None:
    snapshot, crew = jump_host()
    controls = _in_force(snapshot)
    cut = plan_for(snapshot, library(), (crew,), controls, appetite=0.0).cut

    assert cut.assets == ()
    assert [(f, a.control) for f, a in cut.flows] == [(FLOW, "M-ENCRYPT-TRANSIT")]
    assert cut.annual_cost == cut.flows[0][1].annual_cost
    assert not cut.unprotected, "encrypting the flow protects the weights on the wire"
    graph, runs, _ = current_paths_view(snapshot, library(), (crew,), controls)
    assert not unseparated(graph, runs, [], [(FLOW, "M-ENCRYPT-TRANSIT")], set())
    # Over assets alone (the cut before flows could be cut) the notebook costs more and the tap stays open.
    evaluator = Evaluator(snapshot, library(), (crew,), controls)
    by_asset = weighted_cut(graph, runs, candidates(evaluator, {1, 2, 3}, {1, 2, 3}))
    assert [a for a, _ in by_asset.assets] == [2] and by_asset.flows == ()
    assert by_asset.annual_cost > cut.annual_cost
    assert (crew.id, 3, "no action hardens the way") in by_asset.unprotected


def test_a_flow_with_no_hardening_action_is_never_cut() -> None:
    snapshot, crew = jump_host(encrypted=True)  # encryption in transit is in force: nothing to place there
    controls = _in_force(snapshot)
    evaluator = Evaluator(snapshot, library(), (crew,), controls)
    assert flow_actions(library(), snapshot, evaluator.matches, evaluator.controls) == []

    cut = plan_for(snapshot, library(), (crew,), controls, appetite=0.0).cut

    assert cut.flows == ()
    assert (crew.id, 3, "no action hardens the way") in cut.unprotected, "the tap from the internet stays listed"


@st.composite
def carrying(draw: st.DrawFn) -> tuple[SystemSnapshot, tuple[AttackerData, ...]]:
    """Random systems whose flows carry some of the jewels, so that thefts happen on flows."""
    snapshot, attackers = draw(systems())
    jewels = [a.id for a in snapshot.assets if is_jewel(a)]
    flows = tuple(
        replace(f, carries=tuple(draw(st.lists(st.sampled_from(jewels), max_size=2, unique=True))) if jewels else ())
        for f in snapshot.flows
    )
    return SystemSnapshot(zones=snapshot.zones, assets=snapshot.assets, flows=flows), attackers


@CUTS
@given(carrying())
def test_the_cut_over_assets_and_flows_separates_every_attacker_from_every_jewel(system) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    controls = _in_force(snapshot)
    checked = advised_cut(snapshot, library(), attackers)
    if checked is None:
        return
    cut, gaps = checked
    assert not gaps
    assert cut.annual_cost == sum(a.annual_cost for _, a in cut.assets) + sum(a.annual_cost for _, a in cut.flows)
    evaluator = Evaluator(snapshot, library(), attackers, controls)
    hardenable = {
        f for a in flow_actions(library(), snapshot, evaluator.matches, evaluator.controls) for f in a.flow_ids
    }
    assert {f for f, _ in cut.flows} <= hardenable, "a flow no action hardens is never in the cut"
