"""What a finding shows is what a fresh computation says, after every plan transition and edit.

The expert review found an API that still showed a finding's old factors after plans were
proposed. Here a plan is walked through proposed -> approved -> implemented -> verified, the
model is edited, and a second plan is proposed and rejected; after each step the recompute runs, and every stored
figure and explanation must equal one computed from scratch for that version (same seed, same
draws), and the figures the plan acts on must have moved in the right view.
"""

from __future__ import annotations

from typing import Any

import pytest

from mitigations import workflow
from mitigations.services.plans import plan_create
from mitigations.services.transitions import plan_transition
from tests.explained import explained
from tests.mitigations.conftest import EVIDENCE
from threats.models import Control, Finding, SystemRisk
from threats.services.recompute import system_recompute
from threats.services.risk import _names, _values, compute_system_risk  # the writer's own steps
from threats.services.risk_json import finding_views
from workbench.models import System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db
CONTROL = "M-PERTURB-OUTPUTS"  # listed by the extraction finding of the exposed endpoint


def _assert_fresh(system: System) -> dict[str, Any]:
    """Recompute, then compare every stored finding with a computation from scratch."""
    outcome = system_recompute(system_id=system.pk)
    assert outcome.status in ("computed", "fresh"), outcome
    system.refresh_from_db()
    computed = compute_system_risk(system=system)
    names, attackers = _names(computed)
    stored = {
        (f.template.code, f.target_key): f for f in Finding.objects.filter(system=system).select_related("template")
    }
    assert computed.result.findings
    everything = compute_system_risk(system=system, explain_top=10**6).result.findings  # all expanded
    for (code, target_type, target_id), risk in computed.result.findings.items():
        finding = stored[(code, f"{target_type}:{target_id}")]
        expected = _values(risk, names, attackers)
        for key, value in expected.items():
            assert getattr(finding, key) == value, (code, key)
        # What the page shows (stored or computed on request) is the full computation's.
        full = finding_views(everything[(code, target_type, target_id)], names, attackers)
        assert explained(finding) == full, code
        # Unchanged rows are not rewritten: their figures are those of an earlier version that
        # are still true for this one (the check above), and the system's risk is this version's.
        assert finding.risk_version is not None and finding.risk_version <= system.version
    assert SystemRisk.objects.get(system=system).computed_version == system.version
    return {key[0]: f for key, f in stored.items()}


@pytest.mark.parametrize("stored_top", [25, 0], ids=["stored", "computed-on-request"])
def test_every_plan_transition_and_edit_leaves_no_stale_explanation(
    priced: System, editor: Any, risk_owner: Any, risk_owner_2: Any, settings: Any, stored_top: int
) -> None:
    settings.RISK_EXPLAINED_TOP = stored_top  # 0: every explanation is computed when asked
    priced.refresh_from_db()
    asset_save(actor=editor, system=priced, asset=priced.assets.order_by("pk").first(), description="v+1")
    extraction = Finding.objects.get(system=priced, template__code="T-EXTRACT-API")
    control = Control.objects.get(code=CONTROL)
    start = _assert_fresh(priced)["T-EXTRACT-API"]

    plan = plan_create(actor=editor, system=priced, control=control, findings=[extraction])
    proposed = _assert_fresh(priced)["T-EXTRACT-API"]
    assert proposed.projected_mean < start.projected_mean  # a proposal counts in projected
    assert proposed.current_mean == pytest.approx(start.current_mean)
    assert CONTROL in str(explained(proposed)["projected"]) and CONTROL not in str(explained(proposed)["current"])

    plan = plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)
    approved = _assert_fresh(priced)["T-EXTRACT-API"]
    assert approved.current_mean == pytest.approx(start.current_mean)

    plan = plan_transition(actor=editor, plan=plan, action=workflow.IMPLEMENT)
    _assert_fresh(priced)
    plan = plan_transition(actor=risk_owner_2, plan=plan, action=workflow.VERIFY, evidence_links=EVIDENCE)
    verified = _assert_fresh(priced)["T-EXTRACT-API"]
    assert verified.current_mean < start.current_mean  # implemented and verified: now current
    assert CONTROL in str(explained(verified)["current"])
    assert verified.inherent_mean == pytest.approx(start.inherent_mean, rel=1e-12)  # inherent never moves

    api = priced.assets.get(name="Chat API")
    asset_save(actor=editor, system=priced, asset=api, rate_limited=True, rate_limit_per_minute=30, monitored=True)
    edited = _assert_fresh(priced)["T-EXTRACT-API"]
    assert edited.current_mean <= verified.current_mean
    assert edited.inherent_mean == pytest.approx(start.inherent_mean, rel=1e-12)

    second = plan_create(
        actor=editor, system=priced, control=Control.objects.get(code="M-API-WATERMARK"), findings=[extraction]
    )
    again = _assert_fresh(priced)["T-EXTRACT-API"]
    assert again.projected_mean < edited.projected_mean
    plan_transition(actor=risk_owner, plan=second, action=workflow.REJECT, comment="Not this quarter.")
    rejected = _assert_fresh(priced)["T-EXTRACT-API"]
    assert rejected.projected_mean == pytest.approx(edited.projected_mean)  # a rejected plan counts nowhere
    assert "M-API-WATERMARK" not in str(explained(rejected)["projected"])
