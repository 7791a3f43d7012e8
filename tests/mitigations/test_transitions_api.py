"""Every (state, action) pair over the API: the table's pairs work, every other one is a 409
that names the current state and writes nothing. The matrix comes from the table itself."""

from __future__ import annotations

from typing import Any

import pytest

from mitigations import workflow
from mitigations.models import Approval, MitigationPlan
from tests.mitigations.conftest import ACTOR_FOR, transition_kwargs
from workbench.models import AuditEvent, System

pytestmark = pytest.mark.django_db

ALLOWED = workflow.allowed_pairs()
MATRIX = [(state, action) for state in workflow.STATES for action in workflow.ACTIONS]


def url(plan: MitigationPlan, action: str) -> str:
    return f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/{action}/"


def body(plan: MitigationPlan, action: str, **extra: Any) -> dict[str, Any]:
    """What a client sends: the action's fields and the revision it read."""
    return {**transition_kwargs(action), "revision": plan.revision, **extra}


def test_the_matrix_covers_both_outcomes():
    assert {pair for pair in MATRIX if pair in ALLOWED} == ALLOWED
    assert len(MATRIX) - len(ALLOWED) == 29


@pytest.mark.parametrize(("state", "action"), sorted(ALLOWED))
def test_allowed_transition_works(request, api_client, plan_in, state, action):
    plan = plan_in(state)
    system = plan.system
    version = System.objects.get(pk=system.pk).version
    events = AuditEvent.objects.filter(team=system.team).count()
    api_client.force_login(request.getfixturevalue(ACTOR_FOR[action]))

    response = api_client.post(url(plan, action), body(plan, action), format="json")

    assert response.status_code == 200, response.content
    target = workflow.target_of(state, action)
    assert response.json()["status"] == target
    assert MitigationPlan.objects.get(pk=plan.pk).status == target
    assert System.objects.get(pk=system.pk).version == version + 1
    event = AuditEvent.objects.filter(team=system.team).order_by("-sequence").first()
    assert AuditEvent.objects.filter(team=system.team).count() == events + 1
    assert (event.verb, event.object_id, event.before, event.after["status"]) == (
        action,
        str(plan.pk),
        {"status": state},
        target,
    )


@pytest.mark.parametrize("state", workflow.STATES)
def test_every_disallowed_transition_is_409_with_the_current_state(
    request, api_client, plan_in, nothing_written, state
):
    plan = plan_in(state)
    refused = [action for action in workflow.ACTIONS if (state, action) not in ALLOWED]
    approvals = Approval.objects.count()
    answers = {}
    with nothing_written(plan.system):
        for action in refused:
            api_client.force_login(request.getfixturevalue(ACTOR_FOR[action]))
            response = api_client.post(url(plan, action), body(plan, action), format="json")
            answers[action] = (response.status_code, response.json().get("status"), response.json().get("code"))

    assert answers == {action: (409, state, "invalid_transition") for action in refused}
    assert MitigationPlan.objects.get(pk=plan.pk).status == state
    assert Approval.objects.count() == approvals


def test_unknown_action_is_not_routed(api_client, plan_in, risk_owner):
    plan = plan_in(workflow.PROPOSED)
    api_client.force_login(risk_owner)
    assert api_client.post(url(plan, "delete")).status_code == 404


def test_approval_records_the_content_hash_and_revision(api_client, plan_in, risk_owner):
    plan = plan_in(workflow.PROPOSED)
    api_client.force_login(risk_owner)

    answer = api_client.post(url(plan, "approve"), body(plan, "approve", comment="Worth it."), format="json").json()

    approval = Approval.objects.get(plan=plan)
    assert (approval.decision, approval.content_hash, approval.revision) == ("approved", plan.content_hash, 1)
    assert (approval.actor_name, approval.comment) == ("rita", "Worth it.")
    assert answer["approvals"][0]["content_hash"] == plan.content_hash


def test_reject_needs_a_reason(api_client, plan_in, risk_owner, nothing_written):
    plan = plan_in(workflow.PROPOSED)
    api_client.force_login(risk_owner)
    with nothing_written(plan.system):
        response = api_client.post(url(plan, "reject"), body(plan, "reject", comment="  "), format="json")
    assert response.status_code == 400
    assert "comment" in response.json()["errors"]


def test_verify_needs_evidence(api_client, plan_in, risk_owner_2, nothing_written):
    plan = plan_in(workflow.IMPLEMENTED)
    api_client.force_login(risk_owner_2)
    with nothing_written(plan.system):
        response = api_client.post(url(plan, "verify"), {}, format="json")
    assert response.status_code == 400
    assert "evidence_links" in response.json()["errors"]


@pytest.mark.parametrize("link", ["javascript:alert(1)", "ftp://example.test/x", "not a url", "https://" + "a" * 600])
def test_evidence_links_must_be_http_urls(api_client, plan_in, risk_owner_2, nothing_written, link):
    plan = plan_in(workflow.IMPLEMENTED)
    api_client.force_login(risk_owner_2)
    with nothing_written(plan.system):
        response = api_client.post(url(plan, "verify"), {"evidence_links": [link]}, format="json")
    assert response.status_code == 400


def test_the_implementer_cannot_verify(api_client, plan_in, editor, owner):
    plan = plan_in(workflow.APPROVED)
    api_client.force_login(owner)
    assert api_client.post(url(plan, "implement"), {}, format="json").status_code == 200
    response = api_client.post(url(plan, "verify"), {"evidence_links": ["https://x.example.test/"]}, format="json")
    assert response.status_code == 403
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.IMPLEMENTED


def test_comment_on_transition_is_too_long(api_client, plan_in, risk_owner: Any):
    plan = plan_in(workflow.PROPOSED)
    api_client.force_login(risk_owner)
    response = api_client.post(url(plan, "approve"), body(plan, "approve", comment="x" * 2001), format="json")
    assert response.status_code == 400
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.PROPOSED
