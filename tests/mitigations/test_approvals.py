"""Who may decide: risk owners and admins only, never the proposer or last editor (four eyes);
approvals record the content hash, and changing an approved plan sends it back to proposed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from mitigations import workflow
from mitigations.models import Approval, MitigationPlan
from mitigations.services.plans import plan_update
from mitigations.services.transitions import plan_transition
from tests.factories import MembershipFactory
from workbench.choices import Role
from workbench.models import AuditEvent, Membership
from workbench.services.tokens import token_issue

pytestmark = pytest.mark.django_db


def act(api_client: Any, plan: MitigationPlan, action: str, body: dict[str, Any] | None = None) -> Any:
    """POST an action on the revision the caller read (``plan`` as it was loaded)."""
    payload = {"revision": plan.revision, **(body or {})}
    return api_client.post(f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/{action}/", payload, format="json")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.RISK_OWNER, Role.ADMIN])
def test_the_proposer_never_decides_whatever_their_role(api_client, propose, editor, nothing_written, role):
    plan = propose()
    Membership.objects.filter(user=editor, team=plan.team).update(role=role)  # promoted (or demoted) since
    api_client.force_login(editor)

    with nothing_written(plan.system):
        answers = [
            act(api_client, plan, a, {"comment": "My own plan is fine."}).status_code for a in workflow.DECISIONS
        ]

    assert answers == [403, 403]
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.PROPOSED
    assert not Approval.objects.filter(plan=plan).exists()


def test_an_admin_who_proposed_cannot_approve_but_another_admin_can(api_client, propose, owner, admin_2):
    plan = propose(actor=owner)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        plan_transition(actor=owner, plan=plan, action=workflow.APPROVE)

    api_client.force_login(admin_2)
    assert act(api_client, plan, "approve").status_code == 200


def test_whoever_last_changed_the_plan_cannot_approve_it(propose, owner, risk_owner):
    plan = propose()
    plan = plan_update(actor=owner, plan=plan, description="Quota of 600 requests per minute per key.")
    assert plan.edited_by == owner

    with pytest.raises(PermissionDenied):
        plan_transition(actor=owner, plan=plan, action=workflow.APPROVE)
    assert plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE).status == workflow.APPROVED


@pytest.mark.parametrize("persona", ["viewer", "editor"])
def test_viewer_and_editor_cannot_decide(request, api_client, propose, owner, nothing_written, persona):
    plan = propose(actor=owner)  # proposed by someone else, so only the role can refuse
    api_client.force_login(request.getfixturevalue(persona))
    with nothing_written(plan.system):
        answers = [act(api_client, plan, a, {"comment": "Nope, not my call."}).status_code for a in workflow.DECISIONS]
    assert answers == [403, 403]


def test_outsider_gets_404_for_every_action(api_client, propose, outsider, nothing_written):
    plan = propose()
    api_client.force_login(outsider)
    with nothing_written(plan.system):
        for action in workflow.ACTIONS:
            assert act(api_client, plan, action).status_code == 404
        assert api_client.get(f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/").status_code == 404


def test_a_read_only_token_cannot_approve_even_for_a_risk_owner(api_client, propose, risk_owner, team_a):
    plan = propose()
    _, raw = token_issue(user=risk_owner, team=team_a, name="ro", read_only=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert act(api_client, plan, "approve").status_code == 403
    _, raw = token_issue(user=risk_owner, team=team_a, name="rw", read_only=False)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert act(api_client, plan, "approve").status_code == 200


def test_a_token_of_another_team_does_not_see_the_plan(api_client, propose, risk_owner, team_b):
    plan = propose()
    MembershipFactory(team=team_b, user=risk_owner, role=Role.RISK_OWNER)
    _, raw = token_issue(user=risk_owner, team=team_b, name="b", read_only=False)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert act(api_client, plan, "approve").status_code == 404


def test_editing_an_approved_plan_resets_it_to_proposed(api_client, propose, editor, risk_owner):
    plan = propose()
    plan = plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE, comment="OK")
    approved_hash = plan.content_hash
    api_client.force_login(editor)

    response = api_client.patch(
        f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/", {"cost_yearly": "99999.00"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["revision"]) == ("proposed", 2)
    assert body["content_hash"] != approved_hash
    approval = Approval.objects.get(plan=plan)
    assert approval.content_hash == approved_hash and not approval.still_valid
    event = AuditEvent.objects.filter(team=plan.team).latest("sequence")
    assert event.verb == "update"
    assert event.before["status"] == "approved" and event.after["status"] == "proposed"
    # The reset plan needs (and gets) a fresh decision on revision 2.
    plan_transition(actor=risk_owner, plan=MitigationPlan.objects.get(pk=plan.pk), action=workflow.APPROVE)
    assert list(Approval.objects.filter(plan=plan).order_by("revision").values_list("revision", flat=True)) == [1, 2]


def test_an_edit_that_changes_nothing_keeps_the_approval(propose, editor, risk_owner, nothing_written):
    plan = plan_transition(actor=risk_owner, plan=propose(), action=workflow.APPROVE)
    with nothing_written(plan.system):
        same = plan_update(actor=editor, plan=plan, cost_yearly=plan.cost_yearly, description=plan.description)
    assert (same.status, same.revision) == (workflow.APPROVED, 1)


def test_changing_the_scope_changes_the_hash_and_resets(propose, editor, risk_owner, priced):
    plan = plan_transition(actor=risk_owner, plan=propose(), action=workflow.APPROVE)
    chat = priced.assets.get(name="Chat API")

    updated = plan_update(actor=editor, plan=plan, assets=[chat])

    assert updated.status == workflow.PROPOSED
    assert updated.content_hash != plan.content_hash


@pytest.mark.parametrize("state", ["implemented", "verified", "rejected", "withdrawn"])
def test_plans_past_approval_cannot_be_edited_409(api_client, plan_in, editor, nothing_written, state):
    plan = plan_in(state)
    api_client.force_login(editor)
    with nothing_written(plan.system):
        response = api_client.patch(
            f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/", {"description": "later"}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["status"] == state


@pytest.mark.parametrize("persona", ["viewer", "risk_owner"])
def test_viewers_and_risk_owners_cannot_edit(request, api_client, propose, nothing_written, persona):
    plan = propose()
    api_client.force_login(request.getfixturevalue(persona))
    with nothing_written(plan.system):
        response = api_client.patch(
            f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/", {"description": "mine now"}, format="json"
        )
    assert response.status_code == 403
