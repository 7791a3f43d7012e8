"""Plan, approval and acceptance events are links of the team's keyed hash chain: changing,
deleting or reordering any of them is caught by ``manage.py verify_audit``, which names the first
break. The last four tests are the attacks of someone with database access but no audit key
(issue 13, point 7), which all passed verification while the chain was plain SHA-256."""

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
from tests.workbench.audit_support import reseal_unkeyed, unkeyed_hash, verify_output
from workbench.models import AuditEvent, Team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors.jsonl")
    return tmp_path / "anchors.jsonl"


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


# --- Attacks with database access and no key (issue 13, point 7) ------------------------------


@pytest.mark.parametrize("scheme", [None, 1], ids=["keeps-scheme", "downgrades-to-unkeyed"])
def test_an_approval_rewritten_with_every_later_hash_recomputed_is_detected(chain, scheme):
    # The attacker rewrites who approved and recomputes every hash and link after it, with the
    # only formula they can compute without the key. With plain SHA-256 this verified cleanly.
    approve = chain["approve"]
    AuditEvent.objects.filter(pk=approve.pk).update(actor_name="mallory", after={"status": "approved"})
    reseal_unkeyed(approve.team, from_sequence=1 if scheme else approve.sequence, scheme=scheme)

    out = verify_output(approve.team.slug, ok=False)

    if scheme is None:
        assert f"BROKEN at event #{approve.sequence}: content does not match its hash" in out
    else:
        assert "BROKEN at event #1: event is sealed with the unkeyed SHA-256 of before migration 0008" in out


def test_a_cut_tail_is_detected_by_the_anchor(chain):
    team = chain["approve"].team
    verify_output(team.slug, "--anchor", ok=True)
    head = Team.objects.get(pk=team.pk).audit_head
    # Delete the approval and everything after it, and move the head back so it agrees.
    AuditEvent.objects.filter(team=team, sequence__gte=chain["approve"].sequence).delete()
    Team.objects.filter(pk=team.pk).update(audit_head=chain["approve"].sequence - 1)

    out = verify_output(team.slug, ok=False)

    cut = chain["approve"].sequence - 1
    assert f"BROKEN at event #{cut + 1}: chain ends at #{cut}, but the anchor of " in out
    assert f"says #{head}" in out


@pytest.mark.parametrize("scheme", [2, 1], ids=["claims-keyed", "claims-unkeyed"])
def test_a_forged_appended_approval_is_detected(chain, scheme):
    team = chain["approve"].team
    head = Team.objects.get(pk=team.pk).audit_head
    last = AuditEvent.objects.get(team=team, sequence=head)
    forged = AuditEvent(
        team=team,
        sequence=head + 1,
        system_ref=last.system_ref,
        actor_ref=chain["approve"].actor_ref,
        actor_name=chain["approve"].actor_name,
        verb="approve",
        object_type="mitigation_plan",
        object_id=chain["approve"].object_id,
        object_repr=chain["approve"].object_repr,
        after={"status": "approved", "comment": "Looks fine."},
        created_at=timezone.now(),
        prev_hash=last.hash,
        scheme=scheme,
    )
    forged.hash = unkeyed_hash(forged)
    forged.save(force_insert=True)
    Team.objects.filter(pk=team.pk).update(audit_head=head + 1)

    out = verify_output(team.slug, ok=False)

    reason = "content does not match its hash" if scheme == 2 else "event claims the unkeyed seal after keyed events"
    assert f"BROKEN at event #{head + 1}: {reason}" in out


def test_a_wiped_chain_is_detected_by_the_anchor(chain):
    team = chain["approve"].team
    verify_output("--anchor", ok=True)
    head = Team.objects.get(pk=team.pk).audit_head
    AuditEvent.objects.filter(team=team).delete()
    Team.objects.filter(pk=team.pk).update(audit_head=0)

    out = verify_output(ok=False)

    assert f"{team.slug}: BROKEN at event #1: chain is empty, but the anchor of " in out
    assert f"says #{head}" in out


def test_a_chain_wiped_with_its_team_is_detected_by_the_anchor(chain):
    team = chain["approve"].team
    verify_output("--anchor", ok=True)
    AuditEvent.objects.filter(team=team).delete()
    Team.objects.filter(pk=team.pk).delete()

    out = verify_output(ok=False)

    assert f"team #{team.pk} ({team.slug}): BROKEN: the team is gone, but the anchor of " in out
