"""Issue 13.8: a plan whose scoped assets all vanished leaves "approved". It becomes ``obsolete``
(terminal, counted nowhere, audited by the system, the proposer told) right after the change that
deleted its last asset commits; plans that still cover something, and system-wide plans, stay."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from mitigations import selectors, workflow
from mitigations.models import MitigationPlan
from mitigations.services.obsolete import plans_retire_obsolete
from mitigations.services.plans import plan_create, plan_update
from mitigations.services.transitions import plan_transition
from tests.factories import AssetFactory, DataFlowFactory
from tests.mitigations.conftest import ACTOR_FOR, PATH_TO, transition_kwargs
from threats.models import Finding
from workbench.models import AuditEvent
from workbench.services.elements import asset_delete, flow_delete

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(transactional_db: None, in_process_tasks: Any, inline_background: Any) -> None:
    """Real commits, so the change hooks run after them as in production (the recompute too)."""


@pytest.fixture
def spare(priced: Any) -> Any:
    return AssetFactory(system=priced, name="Spare endpoint", zone=priced.zones.first())


def approved(plan: MitigationPlan, risk_owner: Any) -> MitigationPlan:
    return plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)


def test_deleting_the_last_scoped_asset_makes_an_approved_plan_obsolete(
    priced, editor, owner, risk_owner, rate_quota, spare, committed
):
    plan = approved(plan_create(actor=editor, system=priced, control=rate_quota, assets=[spare]), risk_owner)
    mail.outbox.clear()

    asset_delete(actor=owner, asset=spare)

    plan = MitigationPlan.objects.get(pk=plan.pk)
    assert plan.status == workflow.OBSOLETE
    event = AuditEvent.objects.filter(object_type="mitigationplan", object_id=str(plan.pk)).latest("sequence")
    assert (event.verb, event.actor_name, event.before, event.after["status"]) == (
        "obsolete",
        "system",
        {"status": "approved"},
        "obsolete",
    )
    assert selectors.plan_controls_for(system=priced) == ({}, {})
    assert [m.to for m in mail.outbox if "obsolete" in m.subject] == [[editor.email]]


def test_a_plan_scoped_to_a_finding_on_a_deleted_asset_is_obsolete_too(
    priced, editor, owner, risk_owner, rate_quota, extraction, committed
):
    plan = approved(plan_create(actor=editor, system=priced, control=rate_quota, findings=[extraction]), risk_owner)
    asset_delete(actor=owner, asset=priced.assets.get(name="Chat API"))
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.OBSOLETE
    assert Finding.objects.filter(pk=extraction.pk).exists()  # the finding stays, for the record


@pytest.mark.parametrize("state", [workflow.PROPOSED, workflow.APPROVED, workflow.IMPLEMENTED, workflow.VERIFIED])
def test_every_state_that_counts_as_a_control_is_retired(request, propose, owner, spare, state):
    plan = propose(findings=[], assets=[spare])
    for action in PATH_TO[state]:
        actor = request.getfixturevalue(ACTOR_FOR[action])
        plan = plan_transition(actor=actor, plan=plan, action=action, **transition_kwargs(action))
    asset_delete(actor=owner, asset=spare)

    assert plans_retire_obsolete(system_id=plan.system_id) == [plan.pk]
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.OBSOLETE
    assert AuditEvent.objects.filter(verb="obsolete", before={"status": state}).count() == 1


def test_a_plan_that_still_covers_something_stays_approved(
    priced, editor, owner, risk_owner, rate_quota, spare, committed
):
    chat = priced.assets.get(name="Chat API")
    plan = approved(plan_create(actor=editor, system=priced, control=rate_quota, assets=[spare, chat]), risk_owner)
    asset_delete(actor=owner, asset=spare)
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.APPROVED


def test_a_flow_finding_plan_is_retired_when_its_flow_is_deleted(priced, editor, owner, risk_owner, rate_quota):
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
    plan = approved(plan_create(actor=editor, system=priced, control=rate_quota, findings=[finding]), risk_owner)
    flow_delete(actor=owner, flow=flow)
    assert plans_retire_obsolete(system_id=priced.pk) == [plan.pk]


def test_system_wide_and_already_ended_plans_are_left_alone(priced, editor, owner, risk_owner, rate_quota, spare):
    wide = approved(plan_create(actor=editor, system=priced, control=rate_quota), risk_owner)
    rejected = plan_create(actor=editor, system=priced, control=rate_quota, assets=[spare])
    plan_transition(actor=risk_owner, plan=rejected, action=workflow.REJECT, comment="Covered elsewhere already.")
    asset_delete(actor=owner, asset=spare)

    assert plans_retire_obsolete(system_id=priced.pk) == []
    assert MitigationPlan.objects.get(pk=wide.pk).status == workflow.APPROVED
    assert MitigationPlan.objects.get(pk=rejected.pk).status == workflow.REJECTED


def test_retiring_twice_does_nothing_the_second_time(priced, editor, owner, rate_quota, spare):
    plan = plan_create(actor=editor, system=priced, control=rate_quota, assets=[spare])
    asset_delete(actor=owner, asset=spare)
    assert plans_retire_obsolete(system_id=priced.pk) == [plan.pk]
    events = AuditEvent.objects.count()
    assert plans_retire_obsolete(system_id=priced.pk) == []
    assert AuditEvent.objects.count() == events


def test_an_obsolete_plan_cannot_be_edited_or_decided(api_client, plan_in, editor, risk_owner, nothing_written):
    plan = plan_in(workflow.OBSOLETE)
    with nothing_written(plan.system), pytest.raises(workflow.InvalidTransition):
        plan_update(actor=editor, plan=plan, description="Revive it")
    api_client.force_login(risk_owner)
    url = f"/api/v1/systems/{plan.system.slug}/plans/{plan.pk}/approve/"
    response = api_client.post(url, {"revision": plan.revision}, format="json")
    assert (response.status_code, response.json()["status"]) == (409, "obsolete")


def test_the_plan_page_says_why_it_is_obsolete(client_as, plan_in, viewer):
    plan = plan_in(workflow.OBSOLETE)
    text = client_as("viewer").get(plan.get_absolute_url()).content.decode()
    assert "Obsolete" in text and 'data-testid="plan-obsolete"' in text
    listing = client_as("viewer").get(reverse("mitigations:plan_list", args=[plan.system.slug]), {"status": "obsolete"})
    assert plan.get_absolute_url() in listing.content.decode()


def test_a_failure_in_the_hook_never_reaches_the_request(monkeypatch, caplog):
    from mitigations.services import obsolete

    def broken(*, system_id: int) -> list[int]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(obsolete, "plans_retire_obsolete", broken)
    obsolete.on_system_changed(42)
    assert "could not retire obsolete plans of system 42" in caplog.text
