"""Plans over the API: proposing (the one-request "Propose" shape included), scoping, hostile
input, listing, deleting, comments and the OpenAPI schema."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mitigations import workflow
from mitigations.models import MitigationPlan
from tests.factories import AssetFactory
from workbench.models import AuditEvent, System

pytestmark = pytest.mark.django_db


def plans_url(system: System) -> str:
    return f"/api/v1/systems/{system.slug}/plans/"


def test_control_and_finding_ids_are_a_complete_proposal(api_client, editor, priced, extraction, rate_quota):
    api_client.force_login(editor)
    version = priced.version

    response = api_client.post(
        plans_url(priced), {"control": "M-RATE-QUOTA", "findings": [extraction.pk], "assets": []}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["control"], body["status"], body["findings"], body["system_wide"]) == (
        "M-RATE-QUOTA",
        "proposed",
        [extraction.pk],
        False,
    )
    assert body["owner"] == body["proposed_by"] == "bob"
    mid = (rate_quota.cost_one_off_min + rate_quota.cost_one_off_max) / 2
    assert Decimal(body["cost_one_off"]) == mid.quantize(Decimal("0.01"))
    assert System.objects.get(pk=priced.pk).version == version + 1
    event = AuditEvent.objects.filter(team=priced.team).latest("sequence")
    assert (event.verb, event.object_type, event.object_id) == ("propose", "mitigationplan", str(body["id"]))
    assert event.after["control"] == "M-RATE-QUOTA" and event.after["findings"] == [extraction.pk]


def test_a_plan_without_findings_or_assets_is_system_wide(api_client, editor, priced):
    api_client.force_login(editor)
    body = api_client.post(plans_url(priced), {"control": "M-AI-TELEMETRY"}, format="json").json()
    assert body["system_wide"] is True


HOSTILE = [
    {"control": "M-NOT-A-CONTROL"},
    {},
    {"control": "M-RATE-QUOTA", "findings": [999999]},
    {"control": "M-RATE-QUOTA", "findings": ["x"]},
    {"control": "M-RATE-QUOTA", "cost_one_off": "-1"},
    {"control": "M-RATE-QUOTA", "cost_yearly": "1e20"},
    {"control": "M-RATE-QUOTA", "due_date": "2001-01-01"},
    {"control": "M-RATE-QUOTA", "due_date": "not a date"},
    {"control": "M-RATE-QUOTA", "owner": "mallory"},
    {"control": "M-RATE-QUOTA", "evidence_links": ["javascript:alert(1)"]},
    {"control": "M-RATE-QUOTA", "evidence_links": "https://x.example.test"},
    {"control": "M-RATE-QUOTA", "description": "x" * 5001},
    {"control": "M-RATE-QUOTA", "unknown": 1, "findings": {"a": 1}},
    ["not", "an", "object"],
]


def test_hostile_input_is_a_400_and_writes_nothing(api_client, editor, outsider, priced, nothing_written):
    api_client.force_login(editor)
    with nothing_written(priced):
        answers = [api_client.post(plans_url(priced), payload, format="json").status_code for payload in HOSTILE]
    assert answers == [400] * len(HOSTILE)
    assert not MitigationPlan.objects.exists()


def test_another_systems_findings_and_assets_are_refused(api_client, editor, priced, other_system, nothing_written):
    foreign = AssetFactory(system=other_system, name="Their bucket")
    api_client.force_login(editor)
    with nothing_written(priced):
        response = api_client.post(
            plans_url(priced), {"control": "M-RATE-QUOTA", "assets": [foreign.pk]}, format="json"
        )
    assert response.status_code == 400
    assert "assets" in response.json()["errors"]


@pytest.mark.parametrize("persona", ["viewer", "risk_owner"])
def test_only_editors_and_admins_propose(request, api_client, priced, nothing_written, persona):
    api_client.force_login(request.getfixturevalue(persona))
    with nothing_written(priced):
        response = api_client.post(plans_url(priced), {"control": "M-RATE-QUOTA"}, format="json")
    assert response.status_code == 403


def test_outsider_cannot_list_or_propose(api_client, outsider, propose, nothing_written):
    plan = propose()
    api_client.force_login(outsider)
    with nothing_written(plan.system):
        assert api_client.get(plans_url(plan.system)).status_code == 404
        assert api_client.post(plans_url(plan.system), {"control": "M-RATE-QUOTA"}, format="json").status_code == 404


def test_viewer_lists_and_filters_plans(api_client, viewer, plan_in):
    proposed, approved = plan_in("proposed"), plan_in("approved")
    api_client.force_login(viewer)
    rows = api_client.get(plans_url(proposed.system)).json()["results"]
    assert {r["id"] for r in rows} == {proposed.pk, approved.pk}
    rows = api_client.get(plans_url(proposed.system), {"status": "approved"}).json()["results"]
    assert [r["id"] for r in rows] == [approved.pk]
    assert rows[0]["approvals"][0]["decision"] == "approved"


def test_plan_ids_are_scoped_to_the_system_in_the_url(api_client, owner, propose, team_a):
    from tests.factories import make_system

    plan = propose()
    elsewhere = make_system(actor=owner, team=team_a, name="Second system")
    api_client.force_login(owner)
    assert api_client.get(f"{plans_url(elsewhere)}{plan.pk}/").status_code == 404


def test_delete_a_plan_nobody_decided_on(api_client, editor, propose):
    plan = propose()
    api_client.force_login(editor)
    assert api_client.delete(f"{plans_url(plan.system)}{plan.pk}/").status_code == 204
    assert not MitigationPlan.objects.filter(pk=plan.pk).exists()
    assert AuditEvent.objects.filter(team=plan.team).latest("sequence").verb == "delete"


@pytest.mark.parametrize("state", ["approved", "rejected", "implemented", "verified"])
def test_a_plan_with_a_decision_cannot_be_deleted(api_client, editor, plan_in, nothing_written, state):
    plan = plan_in(state)
    api_client.force_login(editor)
    with nothing_written(plan.system):
        response = api_client.delete(f"{plans_url(plan.system)}{plan.pk}/")
    assert response.status_code == 409
    assert response.json()["status"] == state


def test_comments_are_listed_audited_and_refused_to_viewers(api_client, propose, risk_owner, viewer):
    plan = propose()
    url = f"{plans_url(plan.system)}{plan.pk}/comments/"
    api_client.force_login(risk_owner)
    assert api_client.post(url, {"body": "What about the batch API?"}, format="json").status_code == 201
    assert [c["body"] for c in api_client.get(url).json()] == ["What about the batch API?"]
    assert AuditEvent.objects.filter(team=plan.team).latest("sequence").verb == "comment"
    api_client.force_login(viewer)
    assert api_client.post(url, {"body": "me too"}, format="json").status_code == 403
    assert api_client.post(url, {"body": ""}, format="json").status_code == 400


def test_schema_documents_the_plan_endpoints(api_client, viewer: Any):
    api_client.force_login(viewer)
    response = api_client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    base = "/api/v1/systems/{slug}/plans/{id}/"
    for action in workflow.ACTIONS:
        operation = paths[f"{base}{action}/"]["post"]
        assert "409" in operation["responses"]
    assert "post" in paths["/api/v1/systems/{slug}/plans/"]
    assert "get" in paths["/api/v1/systems/{slug}/audit/"]
    assert "post" in paths["/api/v1/systems/{slug}/acceptances/"]


def test_audit_api_is_read_only_filterable_and_scoped(api_client, viewer, outsider, propose, risk_owner):
    plan = propose()
    from mitigations.services.transitions import plan_transition

    plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)
    url = f"/api/v1/systems/{plan.system.slug}/audit/"
    api_client.force_login(viewer)
    rows = api_client.get(url).json()["results"]
    assert [r["verb"] for r in rows[:2]] == ["approve", "propose"]
    assert rows[0]["prev_hash"] == rows[1]["hash"]
    assert [r["verb"] for r in api_client.get(url, {"actor": "rita"}).json()["results"]] == ["approve"]
    assert {r["verb"] for r in api_client.get(url, {"verb": "propose"}).json()["results"]} == {"propose"}
    assert api_client.get(url, {"since": "2999-01-01"}).json()["results"] == []
    assert api_client.get(url, {"since": "soon"}).status_code == 400
    assert api_client.post(url, {}, format="json").status_code in (403, 405)
    api_client.force_login(outsider)
    assert api_client.get(url).status_code == 404
