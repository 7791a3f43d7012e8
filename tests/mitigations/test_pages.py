"""The mitigation pages: what each page shows and does. Who may open and submit them is the
route-derived page matrix (tests/test_pages_matrix.py)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from mitigations import workflow
from mitigations.models import MitigationPlan, RiskAcceptance, TeamWebhook
from mitigations.services.acceptances import acceptance_create
from mitigations.services.transitions import plan_transition
from threats.models import FindingStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(propose, editor, risk_owner, extraction) -> SimpleNamespace:
    plan = propose()
    other = extraction.system.findings.exclude(pk=extraction.pk).filter(status=FindingStatus.OPEN).first()
    acceptance = acceptance_create(
        actor=risk_owner,
        finding=other,
        justification="Accepted for the pilot phase only.",
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    return SimpleNamespace(system=plan.system, plan=plan, finding=extraction, acceptance=acceptance)


def url(page: str, w: SimpleNamespace) -> str:
    slug = w.system.slug
    if page in ("plan_list", "acceptance_list", "audit_list", "plan_new"):
        return reverse(f"mitigations:{page}", args=[slug])
    if page == "plan_act":
        return reverse("mitigations:plan_act", args=[slug, w.plan.pk, "approve"])
    if page == "acceptance_new":
        return reverse("mitigations:acceptance_new", args=[slug, w.finding.pk])
    if page == "acceptance_revoke":
        return reverse("mitigations:acceptance_revoke", args=[slug, w.acceptance.pk])
    return reverse(f"mitigations:{page}", args=[slug, w.plan.pk])


def acceptance_payload() -> dict[str, Any]:
    return {"justification": "Tolerable for a quarter.", "expires_on": str(timezone.localdate() + timedelta(days=10))}


def test_viewer_sees_no_buttons(client_as, world):
    page = client_as("viewer").get(url("plan_detail", world)).content.decode()
    assert reverse("mitigations:plan_act", args=[world.system.slug, world.plan.pk, "approve"]) not in page
    assert url("plan_edit", world) not in page
    assert 'name="body"' not in page
    listing = client_as("viewer").get(url("plan_list", world)).content.decode()
    assert url("plan_new", world) not in listing


def test_the_advisor_propose_post_files_a_plan(client_as, priced, extraction):
    chat = priced.assets.get(name="Chat API")
    response = client_as("editor").post(
        reverse("mitigations:plan_new", args=[priced.slug]),
        {"control": "M-OUTPUT-MINIMIZE", "findings": [extraction.pk], "assets": [chat.pk]},
    )
    plan = MitigationPlan.objects.get(control__code="M-OUTPUT-MINIMIZE")
    assert response.status_code == 302 and response.url == plan.get_absolute_url()
    assert list(plan.findings.all()) == [extraction] and list(plan.assets.all()) == [chat]
    assert plan.status == workflow.PROPOSED and plan.owner.username == "bob"


def test_propose_form_is_prefilled_from_the_query(client_as, priced, extraction):
    response = client_as("editor").get(
        reverse("mitigations:plan_new", args=[priced.slug]), {"control": "M-RATE-QUOTA", "findings": extraction.pk}
    )
    page = response.content.decode()
    assert '<option value="M-RATE-QUOTA" selected>' in page
    assert f'<option value="{extraction.pk}" selected>' in page


def test_invalid_propose_form_is_a_400(client_as, priced, nothing_written):
    client = client_as("editor")
    with nothing_written(priced):
        response = client.post(
            reverse("mitigations:plan_new", args=[priced.slug]), {"control": "M-NOPE", "evidence_links": "ftp://x"}
        )
    assert response.status_code == 400


def test_risk_owner_approves_from_the_plan_page(client_as, world):
    response = client_as("risk_owner").post(url("plan_act", world), {"comment": "Fine by me.", "revision": "1"})
    assert response.status_code == 302
    assert MitigationPlan.objects.get(pk=world.plan.pk).status == workflow.APPROVED
    page = client_as("viewer").get(url("plan_detail", world)).content.decode()
    assert "Fine by me." in page and "rita" in page


def test_a_disallowed_action_on_the_page_is_a_409_naming_the_state(client_as, world, risk_owner, nothing_written):
    plan_transition(
        actor=world.plan.system.team.memberships.get(role="risk_owner").user,
        plan=world.plan,
        action="reject",
        comment="No budget this year.",
    )
    client = client_as("owner")
    with nothing_written(world.system):
        response = client.post(url("plan_act", world), {"comment": "", "revision": "1"})
    assert response.status_code == 409
    assert "rejected" in response.content.decode()


def test_the_proposer_gets_403_on_the_page_too(client_as, world, editor):
    from workbench.models import Membership

    Membership.objects.filter(user=editor).update(role="risk_owner")
    assert client_as("editor").post(url("plan_act", world), {"revision": "1"}).status_code == 403


def test_editing_an_approved_plan_on_the_page_sends_it_back(client_as, world, risk_owner):
    plan_transition(actor=risk_owner, plan=world.plan, action=workflow.APPROVE)
    response = client_as("editor").post(
        url("plan_edit", world),
        {"findings": [world.finding.pk], "cost_one_off": "10", "cost_yearly": "20", "description": "Cheaper."},
    )
    assert response.status_code == 302
    plan = MitigationPlan.objects.get(pk=world.plan.pk)
    assert (plan.status, plan.revision) == (workflow.PROPOSED, 2)
    page = client_as("viewer").get(url("plan_detail", world)).content.decode()
    assert "void: the plan changed since" in page


def test_user_text_is_escaped(client_as, propose, priced):
    plan = propose(
        description='<script>alert("x")</script>',
        evidence_links=['https://example.test/"onmouseover="alert(1)'],
    )
    page = client_as("viewer").get(plan.get_absolute_url()).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert '"onmouseover="' not in page


def test_inbox_lists_pending_plans_with_the_system_without_and_with_each(client_as, world, priced, rate_quota):
    from mitigations.selectors import plan_effects
    from threats.models import Finding, SystemRisk
    from threats.services.recompute import system_recompute
    from threats.templatetags.humanize_money import money

    system_recompute(system_id=priced.pk)
    # The control is in force on the finding's asset, so it works on every finding there that it
    # addresses (rate limits curb extraction and other query-driven threats alike).
    addressed = Finding.objects.filter(
        system=priced, asset__name="Chat API", template__control_links__control=rate_quota
    ).exclude(status=FindingStatus.NOT_APPLICABLE)
    effect = plan_effects([world.plan])[world.plan.pk]
    assert effect.findings == addressed.count() >= 1 and effect.fresh and effect.current
    # Without the pending plan is the system as the system page shows it; with it, less.
    totals = SystemRisk.objects.get(system=priced).totals
    assert effect.current[0] == pytest.approx(totals["current"]["mean"], rel=1e-5)
    assert effect.current[1] < effect.current[0]
    assert effect.projected[1] == pytest.approx(totals["projected"]["mean"], rel=1e-5)

    page = client_as("risk_owner").get(reverse("mitigations:inbox")).content.decode()

    assert world.plan.get_absolute_url() in page
    assert "The system without → with this plan" in page
    assert f"{money(effect.current[0])} → {money(effect.current[1])}" in page
    assert "recomputing" not in page


def test_inbox_flags_your_own_plan_and_hides_other_teams(client_as, world, owner, propose):
    mine = propose(actor=owner)
    page = client_as("owner").get(reverse("mitigations:inbox")).content.decode()
    assert mine.get_absolute_url() in page and "yours: another approver decides" in page
    outsider_page = client_as("outsider").get(reverse("mitigations:inbox")).content.decode()
    assert world.plan.get_absolute_url() not in outsider_page
    viewer_page = client_as("viewer").get(reverse("mitigations:inbox")).content.decode()
    assert "not a risk owner or admin" in viewer_page and world.plan.get_absolute_url() not in viewer_page


def test_audit_page_filters_by_actor_verb_and_date(client_as, world):
    audit = url("audit_list", world)
    everything = client_as("viewer").get(audit).content.decode()
    assert "propose" in everything and "accept_risk" in everything
    by_rita = client_as("viewer").get(audit, {"actor": "rita"}).content.decode()
    assert "accept_risk" in by_rita and "<td>propose</td>" not in by_rita
    by_verb = client_as("viewer").get(audit, {"verb": "propose"}).content.decode()
    assert "<td>propose</td>" in by_verb and "<td>accept_risk</td>" not in by_verb
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    assert "No events match." in client_as("viewer").get(audit, {"since": tomorrow}).content.decode()
    assert client_as("viewer").get(audit, {"since": "yesterday"}).status_code == 400
    assert client_as("viewer").get(audit, {"actor": "<b>nobody</b>"}).status_code == 400


def test_risk_owner_accepts_from_the_page(client_as, world, nothing_written):
    response = client_as("risk_owner").post(url("acceptance_new", world), acceptance_payload())
    assert response.status_code == 302
    assert RiskAcceptance.objects.filter(finding=world.finding, status="active").exists()
    again = client_as("risk_owner").post(url("acceptance_new", world), acceptance_payload())
    assert again.status_code == 409


def test_webhook_page_is_for_team_admins(client_as, world, team_a, fake_dns):
    page = reverse("mitigations:webhook_edit", args=[team_a.slug])
    assert client_as("outsider").get(page).status_code == 404
    assert client_as("risk_owner").get(page).status_code == 403
    assert client_as("viewer").post(page, {"url": "https://hooks.example.test/"}).status_code == 403
    response = client_as("owner").post(page, {"url": "https://hooks.example.test/x", "active": "on"})
    assert response.status_code == 302
    hook = TeamWebhook.objects.get(team=team_a)
    assert hook.secret in client_as("owner").get(page).content.decode()


def test_risk_owners_find_accept_links_on_the_acceptance_page(client_as, world):
    accept_url = url("acceptance_new", world)
    assert accept_url in client_as("risk_owner").get(url("acceptance_list", world)).content.decode()
    assert accept_url not in client_as("editor").get(url("acceptance_list", world)).content.decode()
