"""A plan's risk effect is the whole system with and without it, from the same engine (issue 15.5).

The expert review found a plan scoped to 2 findings showing an effect on 5, inbox "before"
figures adding up to 235 M against a 165 M system, and approving changing no number. Here the
figures shown on the plan page and in the inbox must equal two fresh runs of the engine's loss
function, without and with the plan, after every transition; and the side that is the system as
it stands must equal the system page's own figure.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from mitigations import workflow
from mitigations.models import MitigationPlan
from mitigations.selectors import plan_effects, plan_entries
from mitigations.services.plans import plan_create
from mitigations.services.transitions import plan_transition
from tests.mitigations.conftest import EVIDENCE
from threats.engine.controls import implied_controls, merge
from threats.engine.facts import derive_facts
from threats.engine.library import find_threats
from threats.engine.plan_effect import loss_function
from threats.models import Control, Finding, SystemRisk
from threats.services.library import installed_library
from threats.services.recompute import system_recompute
from threats.services.snapshot import attackers_snapshot, system_snapshot
from threats.templatetags.humanize_money import money
from workbench.models import System

pytestmark = pytest.mark.django_db
CONTROL = "M-PERTURB-OUTPUTS"  # listed by the extraction finding of the exposed endpoint


def _fresh(system: System, plan: MitigationPlan) -> dict[str, tuple[float, float]]:
    """The plan's effect computed from scratch: the engine's loss function without and with it."""
    snapshot = system_snapshot(system=system)
    library = installed_library()
    facts = derive_facts(snapshot)
    loss = loss_function(
        snapshot, library, attackers_snapshot(system=system), facts, find_threats(library, snapshot, facts)
    )
    implied = implied_controls(snapshot, known={c.code for c in library.controls})
    entries = plan_entries(system=system)
    mine = next(e for e in entries if e.plan_id == plan.pk)
    others = [e for e in entries if e.plan_id != plan.pk]
    current = merge(implied, *({e.code: e.coverage} for e in others if e.in_force))
    everything = merge(implied, *({e.code: e.coverage} for e in others))
    return {
        "current": (loss(current), loss(merge(current, {mine.code: mine.coverage}))),
        "projected": (loss(everything), loss(merge(everything, {mine.code: mine.coverage}))),
    }


def _recompute(system: System) -> SystemRisk:
    outcome = system_recompute(system_id=system.pk)
    assert outcome.status in ("computed", "fresh"), outcome
    system.refresh_from_db()
    return SystemRisk.objects.get(system=system)


def _assert_effect_fresh(system: System, plan: MitigationPlan) -> tuple[float, float]:
    risk = _recompute(system)
    plan.refresh_from_db()
    effect = plan_effects([plan])[plan.pk]
    assert effect.fresh and effect.priced
    fresh = _fresh(system, plan)
    assert effect.current == pytest.approx(fresh["current"], rel=1e-5)
    assert effect.projected == pytest.approx(fresh["projected"], rel=1e-5)
    # The side that is the system as it stands is the system page's own figure.
    in_force = plan.status in workflow.CURRENT_STATES
    assert (effect.current[1] if in_force else effect.current[0]) == pytest.approx(
        risk.totals["current"]["mean"], rel=1e-5
    )
    assert effect.projected[1] == pytest.approx(risk.totals["projected"]["mean"], rel=1e-5)
    assert effect.current[1] <= effect.current[0] + 1e-6  # a control never adds loss
    return effect.current


def _shown(client: Client, url: str, testid: str) -> str:
    html = client.get(url).content.decode()
    match = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert match, f"{testid} not on {url}"
    return match.group(1)


def test_the_effect_is_two_engine_runs_after_every_transition(
    priced: System, editor: Any, risk_owner: Any, risk_owner_2: Any, client: Client
) -> None:
    extraction = Finding.objects.get(system=priced, template__code="T-EXTRACT-API")
    plan = plan_create(actor=editor, system=priced, control=Control.objects.get(code=CONTROL), findings=[extraction])
    before, after = _assert_effect_fresh(priced, plan)
    assert after < before, "output perturbation on the only exposed endpoint must lower the system's loss"

    client.force_login(risk_owner)
    shown = _shown(client, plan.get_absolute_url(), "effect-current")
    assert shown == f"{money(before)} → {money(after)}"
    assert _shown(client, "/mitigations/inbox/", "effect-current") == shown

    plan = plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)
    assert _assert_effect_fresh(priced, plan) == pytest.approx((before, after), rel=1e-5)
    plan = plan_transition(actor=editor, plan=plan, action=workflow.IMPLEMENT)
    implemented = _assert_effect_fresh(priced, plan)
    assert implemented == pytest.approx((before, after), rel=1e-5)  # now "with" is the system page's current
    assert SystemRisk.objects.get(system=priced).totals["current"]["mean"] == pytest.approx(after, rel=1e-5)
    plan = plan_transition(actor=risk_owner_2, plan=plan, action=workflow.VERIFY, evidence_links=EVIDENCE)
    _assert_effect_fresh(priced, plan)


def test_a_rejected_plan_puts_nothing_in_force_and_is_not_priced(
    priced: System, editor: Any, risk_owner: Any, client: Client
) -> None:
    extraction = Finding.objects.get(system=priced, template__code="T-EXTRACT-API")
    plan = plan_create(actor=editor, system=priced, control=Control.objects.get(code=CONTROL), findings=[extraction])
    _recompute(priced)
    with_proposal = SystemRisk.objects.get(system=priced).totals["projected"]["mean"]
    plan = plan_transition(actor=risk_owner, plan=plan, action=workflow.REJECT, comment="Not this quarter")
    risk = _recompute(priced)

    effect = plan_effects([plan])[plan.pk]
    assert not effect.priced and str(plan.pk) not in risk.plan_effects
    assert risk.totals["projected"]["mean"] > with_proposal  # the rejected control left the projection
    client.force_login(risk_owner)
    assert "puts no control in force" in client.get(plan.get_absolute_url()).content.decode()


def test_two_plans_are_each_priced_against_the_other(priced: System, editor: Any, rate_quota: Control) -> None:
    extraction = Finding.objects.get(system=priced, template__code="T-EXTRACT-API")
    first = plan_create(actor=editor, system=priced, control=Control.objects.get(code=CONTROL), findings=[extraction])
    second = plan_create(actor=editor, system=priced, control=rate_quota, findings=[extraction])
    risk = _recompute(priced)
    effects = plan_effects([first, second])

    for plan in (first, second):
        fresh = _fresh(priced, plan)
        assert effects[plan.pk].projected == pytest.approx(fresh["projected"], rel=1e-5)
        assert effects[plan.pk].current[0] == pytest.approx(risk.totals["current"]["mean"], rel=1e-5)
    # Each plan's "with every open plan" side is the same system: both plans in force.
    assert effects[first.pk].projected[1] == pytest.approx(effects[second.pk].projected[1], rel=1e-9)
    # Neither figure is a sum over findings: no plan removes more than the system loses.
    for plan in (first, second):
        assert effects[plan.pk].current_removed <= risk.totals["current"]["mean"] + 1e-6
