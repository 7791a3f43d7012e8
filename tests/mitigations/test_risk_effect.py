"""Plans feed the risk views: proposed and approved plans are "projected", implemented and
verified ones "current"; rejected and withdrawn ones count nowhere. Every transition bumps the
version and schedules the recompute after commit."""

from __future__ import annotations

from typing import Any

import pytest

from mitigations import workflow
from mitigations.selectors import plan_controls_for
from mitigations.services.plans import plan_create
from mitigations.services.transitions import plan_transition
from tests.explained import explained
from tests.factories import AssetFactory, DataFlowFactory
from tests.mitigations.conftest import EVIDENCE
from threats.engine.controls import Coverage
from threats.models import Control, Finding, SystemRisk
from threats.services.recompute import system_recompute
from workbench.models import System
from workbench.services.elements import asset_delete

pytestmark = pytest.mark.django_db


def recompute(system: System) -> tuple[Finding, dict[str, Any]]:
    outcome = system_recompute(system_id=system.pk)
    assert outcome.status == "computed"
    finding = Finding.objects.get(system=system, template__code="T-EXTRACT-API")
    return finding, SystemRisk.objects.get(system=system).totals


def recompute_fresh(system: System) -> tuple[Finding, dict[str, Any]]:
    """The fixture already computed the current version."""
    return Finding.objects.get(system=system, template__code="T-EXTRACT-API"), SystemRisk.objects.get(
        system=system
    ).totals


@pytest.fixture
def perturb(library: None) -> Control:
    """Output perturbation lowers query extraction's success directly (a rate limit acts through
    the extraction budget instead, which an unmonitored endpoint does not have)."""
    return Control.objects.get(code="M-PERTURB-OUTPUTS")


def test_approving_changes_the_projected_risk_after_recompute(
    priced, propose, perturb, risk_owner, editor, risk_owner_2
):
    before, totals_before = recompute_fresh(priced)
    assert before.projected_mean == pytest.approx(before.current_mean)

    plan = propose(control=perturb)
    plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)
    approved, totals_approved = recompute(priced)

    # M-PERTURB-OUTPUTS works against API extraction: the projected view drops, the current does not.
    assert approved.projected_mean < 0.9 * before.projected_mean
    assert approved.current_mean == pytest.approx(before.current_mean)
    # The system total never rises; here it barely moves: the anonymous server also hands out the
    # whole model, and a jewel is lost at most once a year.
    assert totals_approved["projected"]["expected"] <= totals_before["projected"]["expected"]
    assert totals_approved["current"]["mean"] == pytest.approx(totals_before["current"]["mean"])
    controls = [c for c, _ in explained(approved)["projected"]["explanation"]["profiles"][0]["controls"]]
    assert "M-PERTURB-OUTPUTS" in controls

    plan_transition(actor=editor, plan=plan, action=workflow.IMPLEMENT)
    implemented, _ = recompute(priced)
    assert implemented.current_mean == pytest.approx(approved.projected_mean)

    plan_transition(actor=risk_owner_2, plan=plan, action=workflow.VERIFY, evidence_links=EVIDENCE)
    verified, _ = recompute(priced)
    assert verified.current_mean == pytest.approx(implemented.current_mean)


@pytest.mark.parametrize(("action", "actor"), [("reject", "risk_owner"), ("withdraw", "editor")])
def test_a_rejected_or_withdrawn_plan_counts_nowhere(request, priced, propose, perturb, action, actor):
    before, _ = recompute_fresh(priced)
    plan = propose(control=perturb)
    planned, _ = recompute(priced)
    assert planned.projected_mean < before.projected_mean

    plan_transition(actor=request.getfixturevalue(actor), plan=plan, action=action, comment="Not this quarter, sorry.")
    after, _ = recompute(priced)

    assert after.projected_mean == pytest.approx(before.projected_mean)
    assert plan_controls_for(system=priced) == ({}, {})


@pytest.mark.django_db(transaction=True)
def test_every_transition_bumps_the_version_and_schedules_a_recompute(priced, plan_in):
    from workbench.background import hold_system_changes

    version = System.objects.get(pk=priced.pk).version

    with hold_system_changes() as called:
        plan_in(workflow.VERIFIED)  # propose, approve, implement, verify: four committed transactions

    assert System.objects.get(pk=priced.pk).version == version + 4
    assert called == [priced.pk] * 4


def test_scoped_plans_cover_their_assets_and_their_flow_findings_ends(priced, editor, rate_quota, library):
    a, b = AssetFactory(system=priced, name="A"), AssetFactory(system=priced, name="B")
    flow = DataFlowFactory(system=priced, source=a, target=b)
    finding = Finding.objects.create(
        team=priced.team,
        system=priced,
        template=Finding.objects.filter(system=priced).first().template,
        target_type="flow",
        target_key=f"flow:{flow.pk}",
        target_repr=flow.name,
        flow=flow,
        computed_version=priced.version,
    )
    chat = priced.assets.get(name="Chat API")
    plan_create(actor=editor, system=priced, control=rate_quota, findings=[finding], assets=[chat])
    plan_create(actor=editor, system=priced, control=rate_quota.__class__.objects.get(code="M-AI-TELEMETRY"))

    current, projected = plan_controls_for(system=priced)

    assert current == {}
    assert projected == {"M-RATE-QUOTA": Coverage(assets=frozenset({a.pk, b.pk, chat.pk})), "M-AI-TELEMETRY": None}


def test_a_plan_whose_assets_were_deleted_covers_nothing(priced, owner, editor, rate_quota):
    spare = AssetFactory(system=priced, name="Spare endpoint")
    plan_create(actor=editor, system=priced, control=rate_quota, assets=[spare])
    assert plan_controls_for(system=priced)[1] == {"M-RATE-QUOTA": Coverage(assets=frozenset({spare.pk}))}

    asset_delete(actor=owner, asset=spare)

    assert plan_controls_for(system=priced) == ({}, {})


def test_plan_controls_take_three_queries_whatever_the_plan_count(
    priced, editor, rate_quota, django_assert_num_queries
):
    chat = priced.assets.get(name="Chat API")
    for _ in range(5):
        plan_create(actor=editor, system=priced, control=rate_quota, assets=[chat])
    with django_assert_num_queries(3):
        plan_controls_for(system=priced)
