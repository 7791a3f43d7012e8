"""The plan detail of the API carries the plan's risk effect (issue 15.5, "one truth"): the same
figures as the plan page and as the last recompute stored, for the version it names, with the
findings the plan works against; a plan beyond the per-recompute limit says it was not priced,
and another team's plan stays a 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from mitigations import workflow
from mitigations.models import MitigationPlan
from mitigations.services.plans import plan_create
from mitigations.services.transitions import plan_transition
from tests.mitigations.test_plan_effect import CONTROL, _fresh, _recompute, _shown
from threats.models import Control, Finding, SystemRisk
from threats.services import risk as risk_service
from threats.templatetags.humanize_money import money
from workbench.models import System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


def detail_url(plan: MitigationPlan) -> str:
    return f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/"


@pytest.fixture
def perturb(priced: System, editor: Any, extraction: Finding) -> MitigationPlan:
    """Output perturbation proposed for the exposed endpoint's extraction finding, priced."""
    plan = plan_create(actor=editor, system=priced, control=Control.objects.get(code=CONTROL), findings=[extraction])
    _recompute(priced)
    return plan


def test_the_api_effect_is_the_pages_and_the_stored_figures(
    api_client: Any, client: Client, risk_owner: Any, perturb: MitigationPlan
) -> None:
    api_client.force_login(risk_owner)
    effect = api_client.get(detail_url(perturb)).json()["effect"]
    stored = SystemRisk.objects.get(system=perturb.system)

    assert effect["priced"] and effect["fresh"]
    assert effect["computed_version"] == stored.computed_version == perturb.system.version
    assert effect["current"] == stored.plan_effects[str(perturb.pk)]["current"]
    assert effect["projected"] == stored.plan_effects[str(perturb.pk)]["projected"]
    assert effect["appetite"] == float(perturb.system.risk_appetite)
    fresh = _fresh(perturb.system, perturb)  # two engine runs, without and with the plan
    assert effect["current"] == pytest.approx(list(fresh["current"]), rel=1e-5)
    assert effect["projected"] == pytest.approx(list(fresh["projected"]), rel=1e-5)

    client.force_login(risk_owner)
    url = perturb.get_absolute_url()
    assert _shown(client, url, "effect-current") == f"{money(effect['current'][0])} → {money(effect['current'][1])}"
    projected = f"{money(effect['projected'][0])} → {money(effect['projected'][1])}"
    assert _shown(client, url, "effect-projected") == projected
    page = client.get(url).content.decode()
    listed = re.search(r'data-testid="effect-findings">(.*?)</td>', page, re.S)
    assert listed is not None
    linked = [int(pk) for pk in re.findall(r"/findings/(\d+)/", listed.group(1))]
    assert [f["id"] for f in effect["findings"]] == linked and linked
    assert effect["findings_in_scope"] == len(linked)
    for row in effect["findings"]:
        finding = Finding.objects.select_related("template").get(pk=row["id"])
        assert (row["code"], row["target"], row["loss"]) == (
            finding.template.code,
            finding.target_repr,
            finding.current_mean,
        )
        assert f"({money(row['loss'])}/yr through it)" in listed.group(1)


def test_after_a_decision_the_effect_follows_the_recompute(
    api_client: Any, risk_owner: Any, editor: Any, perturb: MitigationPlan, owner: Any
) -> None:
    plan = plan_transition(actor=risk_owner, plan=perturb, action=workflow.APPROVE)
    asset_save(actor=owner, system=plan.system, name="Spare box", kind="workstation")  # bumps the version
    api_client.force_login(editor)
    stale = api_client.get(detail_url(plan)).json()["effect"]
    plan.system.refresh_from_db()
    assert not stale["fresh"] and stale["computed_version"] < plan.system.version

    _recompute(plan.system)
    effect = api_client.get(detail_url(plan)).json()["effect"]
    assert effect["fresh"] and effect["computed_version"] == plan.system.version
    assert effect["current"] == SystemRisk.objects.get(system=plan.system).plan_effects[str(plan.pk)]["current"]


def test_a_plan_beyond_the_per_recompute_limit_is_not_priced(
    api_client: Any, client: Client, risk_owner: Any, editor: Any, priced: System, extraction: Finding, monkeypatch: Any
) -> None:
    monkeypatch.setattr(risk_service, "PLAN_EFFECT_LIMIT", 1)  # the newest plan only
    older = plan_create(actor=editor, system=priced, control=Control.objects.get(code=CONTROL), findings=[extraction])
    newer = plan_create(
        actor=editor, system=priced, control=Control.objects.get(code="M-RATE-QUOTA"), findings=[extraction]
    )
    _recompute(priced)
    api_client.force_login(risk_owner)

    unpriced = api_client.get(detail_url(older)).json()["effect"]
    assert not unpriced["priced"] and unpriced["fresh"]
    assert unpriced["current"] is None and unpriced["projected"] is None
    assert extraction.pk in [f["id"] for f in unpriced["findings"]]  # its scope is still listed
    assert unpriced["findings_in_scope"] == len(unpriced["findings"])
    assert api_client.get(detail_url(newer)).json()["effect"]["priced"]
    client.force_login(risk_owner)
    assert (
        "Not priced: more open plans than a recompute prices" in client.get(older.get_absolute_url()).content.decode()
    )


def test_a_rejected_plan_is_not_priced(api_client: Any, risk_owner: Any, perturb: MitigationPlan) -> None:
    plan = plan_transition(actor=risk_owner, plan=perturb, action=workflow.REJECT, comment="Not this quarter")
    _recompute(plan.system)
    api_client.force_login(risk_owner)
    effect = api_client.get(detail_url(plan)).json()["effect"]
    assert not effect["priced"] and effect["current"] is None


def test_another_teams_plan_is_a_404(
    api_client: Any, outsider: Any, other_system: System, perturb: MitigationPlan
) -> None:
    api_client.force_login(outsider)
    assert api_client.get(detail_url(perturb)).status_code == 404
    # Nor through a system the outsider can see: the plan id is scoped to the system in the URL.
    assert api_client.get(f"/api/v1/systems/{other_system.slug}/plans/{perturb.pk}/").status_code == 404


def test_the_list_stays_without_the_effect(api_client: Any, risk_owner: Any, perturb: MitigationPlan) -> None:
    api_client.force_login(risk_owner)
    rows = api_client.get(f"/api/v1/systems/{perturb.system.slug}/plans/").json()["results"]
    assert rows and all("effect" not in row for row in rows)
