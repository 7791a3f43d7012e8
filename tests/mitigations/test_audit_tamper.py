"""Plan, approval and acceptance events are links of the team's hash chain: changing, deleting
or reordering any of them is caught by ``manage.py verify_audit``, which names the first break."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from mitigations import workflow
from mitigations.services.acceptances import acceptance_create
from mitigations.services.plans import plan_update
from mitigations.services.transitions import plan_transition
from workbench.models import AuditEvent, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(propose, editor, risk_owner, extraction) -> dict[str, AuditEvent]:
    """A proposal, an edit, an approval and an acceptance, on top of the system's own events."""
    plan = propose()
    plan = plan_update(actor=editor, plan=plan, description="Per-key quota at the gateway.")
    plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE, comment="Go.")
    acceptance_create(
        actor=risk_owner,
        finding=extraction,
        justification="Residual risk is within appetite for this quarter.",
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    events = AuditEvent.objects.filter(team=plan.team)
    return {verb: events.get(verb=verb) for verb in ("propose", "update", "approve", "accept_risk")}


def verify(team: Team) -> str:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", team.slug, stdout=out)
    return out.getvalue()


def test_the_new_events_are_links_of_an_intact_chain(chain):
    team = chain["approve"].team
    out = StringIO()
    call_command("verify_audit", team.slug, stdout=out)
    assert f"{team.slug}: ok" in out.getvalue()
    approve = chain["approve"]
    assert approve.after["content_hash"] and approve.after["comment"] == "Go."
    assert approve.prev_hash == chain["update"].hash


@pytest.mark.parametrize("verb", ["propose", "approve", "accept_risk"])
@pytest.mark.parametrize(
    ("field", "value"),
    [("after", {"status": "approved", "comment": "forged"}), ("actor_name", "someone-else"), ("verb", "reject")],
)
def test_a_changed_field_is_detected_at_that_event(chain, verb, field, value):
    event = chain[verb]
    AuditEvent.objects.filter(pk=event.pk).update(**{field: value})

    out = verify(event.team)

    assert f"BROKEN at event #{event.sequence}: content does not match its hash" in out


@pytest.mark.parametrize("verb", ["propose", "approve"])
def test_a_deleted_row_is_detected(chain, verb):
    event = chain[verb]
    AuditEvent.objects.filter(pk=event.pk).delete()

    out = verify(event.team)

    assert f"BROKEN at event #{event.sequence}: event #{event.sequence} is missing" in out


def test_a_deleted_last_row_is_detected_by_the_head(chain):
    last = chain["accept_risk"]
    AuditEvent.objects.filter(pk=last.pk).delete()

    assert f"chain ends at #{last.sequence - 1}, head says #{last.sequence}" in verify(last.team)


def test_reordered_rows_are_detected(chain):
    # Swap the approval and the edit (through a spare number: (team, sequence) is unique).
    approve, update = chain["approve"], chain["update"]
    AuditEvent.objects.filter(pk=approve.pk).update(sequence=100_000)
    AuditEvent.objects.filter(pk=update.pk).update(sequence=approve.sequence)
    AuditEvent.objects.filter(pk=approve.pk).update(sequence=update.sequence)

    assert f"BROKEN at event #{update.sequence}" in verify(approve.team)


def test_an_approval_rewritten_with_a_fresh_hash_breaks_the_next_link(chain):
    from workbench.services.audit import event_hash

    approve = chain["approve"]
    approve.actor_name = "mallory"
    approve.hash = event_hash(approve)
    AuditEvent.objects.filter(pk=approve.pk).update(actor_name=approve.actor_name, hash=approve.hash)

    out = verify(approve.team)

    assert f"BROKEN at event #{approve.sequence + 1}: link to the previous event does not match" in out
