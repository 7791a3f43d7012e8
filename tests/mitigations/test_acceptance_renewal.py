"""Issue 13.8: accepting a finding again after its acceptance was revoked (or expired) is a
renewal. It needs a justification of its own, not the old one sent again, and the record shows
it as a renewal of the earlier acceptance (its audit event, the API and the page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mitigations.models import AcceptanceStatus, RiskAcceptance
from mitigations.services.acceptances import acceptance_create, acceptance_revoke, acceptances_expire
from workbench.models import AuditEvent

pytestmark = pytest.mark.django_db

FIRST = "Compensated by contractual terms with the only API customer."
SECOND = "The customer renewed the contract with a no-extraction clause; quotas follow in Q3."


def accept(actor: Any, finding: Any, text: str, days: int = 30) -> RiskAcceptance:
    return acceptance_create(
        actor=actor, finding=finding, justification=text, expires_on=timezone.localdate() + timedelta(days=days)
    )


@pytest.fixture
def revoked(risk_owner: Any, extraction: Any) -> RiskAcceptance:
    acceptance = accept(risk_owner, extraction, FIRST)
    return acceptance_revoke(actor=risk_owner, acceptance=acceptance, reason="The customer left.")


@pytest.mark.parametrize(
    "text",
    [FIRST, FIRST.upper(), f"  {FIRST.replace(' ', '   ')}  ", FIRST.replace(";", "").rstrip(".") + "!"],
    ids=["same", "shouted", "respaced", "repunctuated"],
)
def test_re_accepting_with_the_old_justification_is_refused(risk_owner, extraction, revoked, nothing_written, text):
    with nothing_written(extraction.system), pytest.raises(ValidationError) as info:
        accept(risk_owner, extraction, text)
    assert "A renewal needs a new one" in info.value.message_dict["justification"][0]
    extraction.refresh_from_db()
    assert extraction.status == "open"


def test_a_renewal_with_a_new_justification_is_recorded_as_one(risk_owner, extraction, revoked):
    renewal = accept(risk_owner, extraction, SECOND)

    assert renewal.renews == revoked and renewal.status == AcceptanceStatus.ACTIVE
    event = AuditEvent.objects.filter(object_type="riskacceptance", object_id=str(renewal.pk)).get()
    assert (event.verb, event.after["renews"], event.after["renews_status"], event.after["justification"]) == (
        "renew_acceptance",
        revoked.pk,
        "revoked",
        SECOND,
    )


def test_the_first_acceptance_is_not_a_renewal(risk_owner, extraction):
    first = accept(risk_owner, extraction, FIRST)
    assert first.renews is None
    assert AuditEvent.objects.filter(object_id=str(first.pk), object_type="riskacceptance").get().verb == "accept_risk"


def test_after_an_expiry_too_a_renewal_needs_a_new_justification(risk_owner, extraction):
    first = accept(risk_owner, extraction, FIRST, days=1)
    assert acceptances_expire(today=timezone.localdate() + timedelta(days=3)) == 1
    with pytest.raises(ValidationError):
        accept(risk_owner, extraction, FIRST)
    assert accept(risk_owner, extraction, SECOND).renews == RiskAcceptance.objects.get(pk=first.pk)


def test_no_justification_of_the_finding_is_reused_not_only_the_last(risk_owner, extraction, revoked):
    second = accept(risk_owner, extraction, SECOND)
    acceptance_revoke(actor=risk_owner, acceptance=second, reason="Again.")
    with pytest.raises(ValidationError):
        accept(risk_owner, extraction, FIRST)
    third = accept(risk_owner, extraction, "Third review: extraction now needs a paid key per tenant.")
    assert third.renews.pk == second.pk


def test_the_api_refuses_the_reuse_with_a_400_and_shows_renewals(api_client, risk_owner, extraction, revoked):
    api_client.force_login(risk_owner)
    url = f"/api/v1/systems/{extraction.system.slug}/acceptances/"
    expires = (timezone.localdate() + timedelta(days=20)).isoformat()

    reused = api_client.post(
        url, {"finding": extraction.pk, "justification": FIRST, "expires_on": expires}, format="json"
    )
    renewed = api_client.post(
        url, {"finding": extraction.pk, "justification": SECOND, "expires_on": expires}, format="json"
    )

    assert reused.status_code == 400 and "justification" in reused.json()["errors"]
    assert renewed.status_code == 201 and renewed.json()["renews"] == revoked.pk


def test_the_acceptance_page_marks_the_renewal(client_as, risk_owner, extraction, revoked):
    form = reverse("mitigations:acceptance_new", args=[extraction.system.slug, extraction.pk])
    expires = str(timezone.localdate() + timedelta(days=20))
    client = client_as("risk_owner")
    assert client.post(form, {"justification": FIRST, "expires_on": expires}).status_code == 400
    assert client.post(form, {"justification": SECOND, "expires_on": expires}).status_code == 302

    page = client.get(reverse("mitigations:acceptance_list", args=[extraction.system.slug])).content.decode()
    assert page.count('data-testid="renewal"') == 1
    assert "renews the acceptance of" in page and "(revoked)" in page
