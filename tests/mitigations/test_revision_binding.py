"""Issue 13.2: a decision binds to the revision the reviewer saw, and nobody who wrote any revision
of a plan decides on it. A stale approve or reject is a 409 naming the current revision, with
nothing decided; a co-author's decision is a 403."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mitigations import workflow
from mitigations.models import Approval, MitigationPlan
from mitigations.services.plans import plan_update
from mitigations.services.transitions import plan_transition
from workbench.models import AuditEvent

pytestmark = pytest.mark.django_db

REASON = {"comment": "Not worth the money this year."}


def api(plan: MitigationPlan, action: str) -> str:
    return f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/{action}/"


def page(plan: MitigationPlan, action: str) -> str:
    return reverse("mitigations:plan_act", args=[plan.system.slug, plan.pk, action])


def assert_undecided(plan: MitigationPlan) -> None:
    current = MitigationPlan.objects.get(pk=plan.pk)
    assert current.status == workflow.PROPOSED
    assert not Approval.objects.filter(plan=plan).exists()
    assert not AuditEvent.objects.filter(object_type="mitigationplan", verb__in=sorted(workflow.DECISIONS)).exists()


@pytest.fixture
def changed_after_review(propose, editor) -> tuple[MitigationPlan, int]:
    """A plan the reviewer opened at revision 1, which its proposer then changed (revision 2)."""
    plan = propose()
    seen = plan.revision
    plan_update(actor=editor, plan=plan, description="Quota raised to 6,000 requests per minute.")
    return plan, seen


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_decision_on_a_stale_revision_is_a_409_over_the_api_and_decides_nothing(
    api_client, changed_after_review, risk_owner, nothing_written, action
):
    plan, seen = changed_after_review
    api_client.force_login(risk_owner)

    with nothing_written(plan.system):
        response = api_client.post(api(plan, action), {"revision": seen, **REASON}, format="json")

    assert response.status_code == 409, response.content
    body = response.json()
    current = MitigationPlan.objects.get(pk=plan.pk)
    assert (body["code"], body["status"], body["revision"]) == ("stale_revision", "proposed", 2)
    assert body["content_hash"] == current.content_hash
    assert "revision 2" in body["detail"]
    assert_undecided(plan)


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_decision_on_a_stale_revision_is_a_409_on_the_page_and_shows_the_new_revision(
    client_as, changed_after_review, risk_owner, nothing_written, action
):
    plan, seen = changed_after_review

    with nothing_written(plan.system):
        response = client_as("risk_owner").post(page(plan, action), {"revision": str(seen), **REASON})

    assert response.status_code == 409
    text = response.content.decode()
    assert "it is now at revision 2" in text
    assert 'name="revision" value="2"' in text  # the forms now carry what is on screen
    assert_undecided(plan)


def test_the_plan_page_forms_carry_the_revision_shown(client_as, changed_after_review):
    plan, _ = changed_after_review
    text = client_as("risk_owner").get(plan.get_absolute_url()).content.decode()
    assert text.count('<input type="hidden" name="revision" value="2">') == 2  # approve and reject
    assert "revision 2" in text


def test_the_current_revision_is_approved_and_recorded(api_client, changed_after_review, risk_owner):
    plan, _ = changed_after_review
    api_client.force_login(risk_owner)

    response = api_client.post(api(plan, "approve"), {"revision": 2, "comment": "Read revision 2."}, format="json")

    assert response.status_code == 200, response.content
    approval = Approval.objects.get(plan=plan)
    assert (approval.revision, approval.content_hash) == (2, MitigationPlan.objects.get(pk=plan.pk).content_hash)
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.APPROVED


@pytest.mark.parametrize("body", [{}, {"revision": None}, {"revision": "two"}, {"revision": 0}, {"revision": 2**70}])
def test_a_decision_without_a_valid_revision_is_a_400(api_client, propose, risk_owner, nothing_written, body):
    plan = propose()
    api_client.force_login(risk_owner)
    with nothing_written(plan.system):
        response = api_client.post(api(plan, "approve"), body, format="json")
    assert response.status_code == 400, response.content
    assert "revision" in response.json()["errors"]
    assert_undecided(plan)


@pytest.mark.parametrize("revision", ["", "abc", str(2**70)])
def test_the_page_refuses_a_missing_or_absurd_revision_with_a_400(
    client_as, propose, risk_owner, nothing_written, revision
):
    plan = propose()
    with nothing_written(plan.system):
        response = client_as("risk_owner").post(page(plan, "approve"), {"revision": revision})
    assert response.status_code == 400
    assert_undecided(plan)


def test_an_admin_who_rewrote_the_plan_cannot_approve_it_after_the_proposer_edits_again(
    api_client, client_as, propose, editor, owner, risk_owner, nothing_written
):
    """The review's case: bob proposes, alice (admin) rewrites it, bob changes one field. Alice is
    no longer the last editor, but she wrote revision 2, so four eyes still keeps her out."""
    plan = propose()
    plan = plan_update(actor=owner, plan=plan, description="Rewritten: per-tenant quotas, 600/min.")
    plan = plan_update(actor=editor, plan=plan, cost_yearly="1500.00")
    assert (plan.revision, plan.edited_by, plan.authors) == (3, editor, [editor.pk, owner.pk])
    api_client.force_login(owner)

    with nothing_written(plan.system):
        answers = [
            api_client.post(api(plan, action), {"revision": 3, **REASON}, format="json")
            for action in ("approve", "reject")
        ]
        on_page = client_as("owner").post(page(plan, "approve"), {"revision": "3"})

    assert [a.status_code for a in answers] == [403, 403]
    assert "Four eyes" in answers[0].json()["detail"]
    assert on_page.status_code == 403
    assert_undecided(plan)
    # Someone who wrote none of it decides.
    assert plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE, revision=3).status == "approved"


def test_the_proposer_still_cannot_approve_after_others_edited(api_client, propose, editor, owner, nothing_written):
    from workbench.models import Membership

    plan = propose()
    plan = plan_update(actor=owner, plan=plan, description="Tightened by the admin.")
    Membership.objects.filter(user=editor, team=plan.team).update(role="risk_owner")
    api_client.force_login(editor)
    with nothing_written(plan.system):
        response = api_client.post(api(plan, "approve"), {"revision": plan.revision}, format="json")
    assert response.status_code == 403
    assert_undecided(plan)


def test_the_plan_page_names_every_author(client_as, propose, editor, owner):
    plan = propose()
    plan_update(actor=owner, plan=plan, description="Rewritten by the admin.")
    plan_update(actor=editor, plan=plan, description="Back to the proposer's words.")
    text = client_as("viewer").get(plan.get_absolute_url()).content.decode()
    assert '<td data-testid="plan-authors">bob, alice ' in text


def test_a_service_caller_decides_on_the_plan_it_loaded(propose, editor, risk_owner):
    loaded = propose()
    plan_update(actor=editor, plan=loaded, description="Changed after it was loaded.")
    with pytest.raises(workflow.StaleRevision) as info:
        plan_transition(actor=risk_owner, plan=loaded, action=workflow.APPROVE)
    assert (info.value.revision, info.value.current) == (2, "proposed")
    assert_undecided(loaded)


def test_the_migration_backfills_authors_from_the_audit_trail(propose, editor, owner, risk_owner):
    plan = propose()
    plan_update(actor=owner, plan=plan, description="The admin's version.")
    plan_update(actor=editor, plan=plan, description="The proposer's version again.")
    MitigationPlan.objects.filter(pk=plan.pk).update(authors=[])  # as before migration 0004
    migration = importlib.import_module("mitigations.migrations.0004_plan_revision_authors")

    migration.backfill_authors(apps, None)

    assert MitigationPlan.objects.get(pk=plan.pk).authors == [editor.pk, owner.pk]
    with pytest.raises(PermissionDenied, match="Four eyes"):
        plan_transition(actor=owner, plan=MitigationPlan.objects.get(pk=plan.pk), action=workflow.APPROVE)
