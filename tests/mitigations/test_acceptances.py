"""Risk acceptance: who may accept, for how long, what it does to counts and totals, how it
survives recomputes, and the daily task that reopens expired acceptances with a record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from mitigations import workflow
from mitigations.models import AcceptanceStatus, RiskAcceptance
from mitigations.services.acceptances import acceptance_create, acceptance_revoke
from mitigations.tasks import expire_acceptances
from threats.models import Finding, FindingStatus, SystemRisk
from threats.services.recompute import system_recompute
from workbench.models import AuditEvent, System
from workbench.services.audit import team_verify_audit
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db

WHY = "Compensated by contractual terms with the only API customer."


def accept(actor: Any, finding: Finding, days: int = 30) -> RiskAcceptance:
    return acceptance_create(
        actor=actor, finding=finding, justification=WHY, expires_on=timezone.localdate() + timedelta(days=days)
    )


def acceptances_url(system: System) -> str:
    return f"/api/v1/systems/{system.slug}/acceptances/"


def test_accepting_takes_the_finding_out_of_open_counts_but_not_out_of_the_totals(
    owner, risk_owner, priced, extraction
):
    totals = SystemRisk.objects.get(system=priced).totals
    open_before = Finding.objects.filter(system=priced, status=FindingStatus.OPEN).count()

    acceptance = accept(risk_owner, extraction)

    extraction.refresh_from_db()
    assert extraction.status == FindingStatus.ACCEPTED
    assert Finding.objects.filter(system=priced, status=FindingStatus.OPEN).count() == open_before - 1
    event = AuditEvent.objects.filter(team=priced.team).latest("sequence")
    assert (event.verb, event.object_id, event.after["finding_status"]) == (
        "accept_risk",
        str(acceptance.pk),
        "accepted",
    )
    # A recompute keeps the finding accepted and its loss in the totals.
    priced.refresh_from_db()
    asset_save(actor=owner, system=priced, asset=priced.assets.get(name="Chat API"), description="Public chat")
    outcome = system_recompute(system_id=priced.pk)
    assert outcome.status == "computed"
    assert outcome.details["open"] == open_before - 1
    extraction.refresh_from_db()
    assert extraction.status == FindingStatus.ACCEPTED
    assert SystemRisk.objects.get(system=priced).totals["current"]["mean"] == pytest.approx(totals["current"]["mean"])
    assert extraction.current_mean > 0


def test_an_accepted_finding_that_stops_and_starts_applying_stays_accepted(owner, risk_owner, priced, extraction):
    accept(risk_owner, extraction)
    chat = priced.assets.get(name="Chat API")
    asset_save(
        actor=owner, system=priced, asset=chat, kind="object_store", model_class="", output_granularity="", serves=[]
    )
    system_recompute(system_id=priced.pk)
    extraction.refresh_from_db()
    assert extraction.status == FindingStatus.NOT_APPLICABLE

    asset_save(
        actor=owner,
        system=priced,
        asset=chat,
        kind="inference_endpoint",
        model_class="classifier",
        output_granularity="logits",
        serves=[priced.assets.get(name="Chat model")],
    )
    system_recompute(system_id=priced.pk)

    extraction.refresh_from_db()
    assert extraction.status == FindingStatus.ACCEPTED


@pytest.mark.parametrize(
    ("days", "justification", "field"),
    [
        (366, WHY, "expires_on"),
        (-1, WHY, "expires_on"),
        (30, "because", "justification"),
        (30, "x" * 5001, "justification"),
    ],
)
def test_bad_expiry_or_justification_is_refused(risk_owner, extraction, nothing_written, days, justification, field):
    with nothing_written(extraction.system), pytest.raises(ValidationError) as info:
        acceptance_create(
            actor=risk_owner,
            finding=extraction,
            justification=justification,
            expires_on=timezone.localdate() + timedelta(days=days),
        )
    assert field in info.value.message_dict
    assert Finding.objects.get(pk=extraction.pk).status == FindingStatus.OPEN


def test_a_year_is_the_longest_acceptance(risk_owner, extraction):
    assert accept(risk_owner, extraction, days=365).expires_on == timezone.localdate() + timedelta(days=365)


@pytest.mark.parametrize("persona", ["viewer", "editor"])
def test_only_risk_owners_and_admins_accept(request, api_client, extraction, nothing_written, persona):
    api_client.force_login(request.getfixturevalue(persona))
    payload = {
        "finding": extraction.pk,
        "justification": WHY,
        "expires_on": str(timezone.localdate() + timedelta(days=9)),
    }
    with nothing_written(extraction.system):
        response = api_client.post(acceptances_url(extraction.system), payload, format="json")
    assert response.status_code == 403


def test_api_accept_list_and_revoke(api_client, owner, extraction, outsider):
    api_client.force_login(owner)  # admins accept too
    payload = {
        "finding": extraction.pk,
        "justification": WHY,
        "expires_on": str(timezone.localdate() + timedelta(days=9)),
    }
    created = api_client.post(acceptances_url(extraction.system), payload, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["threat"] == "T-EXTRACT-API"
    again = api_client.post(acceptances_url(extraction.system), payload, format="json")
    assert again.status_code == 409 and again.json()["status"] == "accepted"
    assert [a["id"] for a in api_client.get(acceptances_url(extraction.system)).json()["results"]] == [
        created.json()["id"]
    ]

    api_client.force_login(outsider)
    assert api_client.get(acceptances_url(extraction.system)).status_code == 404
    revoke_url = f"{acceptances_url(extraction.system)}{created.json()['id']}/revoke/"
    assert api_client.post(revoke_url, {}, format="json").status_code == 404

    api_client.force_login(owner)
    revoked = api_client.post(revoke_url, {"reason": "The customer left."}, format="json")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert Finding.objects.get(pk=extraction.pk).status == FindingStatus.OPEN
    assert api_client.post(revoke_url, {}, format="json").status_code == 409


def test_a_finding_of_another_system_cannot_be_accepted_here(api_client, owner, extraction, team_a):
    from tests.factories import make_system

    elsewhere = make_system(actor=owner, team=team_a, name="Elsewhere")
    api_client.force_login(owner)
    payload = {"finding": extraction.pk, "justification": WHY, "expires_on": str(timezone.localdate())}
    assert api_client.post(acceptances_url(elsewhere), payload, format="json").status_code == 400


def test_the_daily_task_reopens_expired_acceptances_with_a_record(risk_owner, priced, extraction):
    expired = accept(risk_owner, extraction)
    RiskAcceptance.objects.filter(pk=expired.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    other = Finding.objects.filter(system=priced, status=FindingStatus.OPEN).exclude(pk=extraction.pk).first()
    assert other is not None
    still_valid = accept(risk_owner, other, days=0)  # valid through today

    result = expire_acceptances.apply().get()

    assert result == {"expired": 1}
    expired.refresh_from_db()
    assert (expired.status, expired.ended_by) == (AcceptanceStatus.EXPIRED, None)
    assert Finding.objects.get(pk=extraction.pk).status == FindingStatus.OPEN
    assert Finding.objects.get(pk=other.pk).status == FindingStatus.ACCEPTED
    assert RiskAcceptance.objects.get(pk=still_valid.pk).status == AcceptanceStatus.ACTIVE
    event = AuditEvent.objects.filter(team=priced.team).latest("sequence")
    assert (event.verb, event.actor_name, event.object_id) == ("expire_acceptance", "system", str(expired.pk))
    assert event.after["finding_status"] == "open"
    assert team_verify_audit(team=priced.team).ok
    # Running again (a duplicate beat, a redelivery) expires nothing twice.
    assert expire_acceptances.apply().get() == {"expired": 0}


def test_the_daily_task_is_on_the_beat_schedule():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "mitigations.expire_acceptances"]
    assert len(entries) == 1


def test_revoking_needs_the_approver_role(editor, risk_owner, extraction):
    acceptance = accept(risk_owner, extraction)
    with pytest.raises(PermissionDenied):
        acceptance_revoke(actor=editor, acceptance=acceptance)


def test_not_applicable_findings_cannot_be_accepted(risk_owner, extraction):
    Finding.objects.filter(pk=extraction.pk).update(status=FindingStatus.NOT_APPLICABLE)
    with pytest.raises(workflow.InvalidTransition) as info:
        accept(risk_owner, Finding.objects.get(pk=extraction.pk))
    assert info.value.current == "not_applicable"
