"""The keyed, hash-chained audit record: service writes verify; tampering of any kind is detected."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.factories import UserFactory
from workbench.choices import AssetKind
from workbench.models import AuditEvent, System, Team
from workbench.services.audit import GENESIS, event_hash, team_verify_audit
from workbench.services.audit_seal import audit_keys
from workbench.services.elements import asset_save, zone_save
from workbench.services.systems import system_delete, system_update
from workbench.services.teams import team_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors.jsonl")


@pytest.fixture
def chain(owner, system: System) -> Team:
    """Team A with five events: system create, seed defaults, zone, asset, system update."""
    zone = zone_save(actor=owner, system=system, name="DMZ", trust_level=1)
    asset_save(
        actor=owner, system=system, name="Gateway", kind=AssetKind.API_GATEWAY, zone=zone, value_max=Decimal(100)
    )
    system_update(actor=owner, system=system, description="Edge in a DMZ")
    team = system.team
    assert AuditEvent.objects.filter(team=team).count() == 5
    return team


def event(team: Team, sequence: int) -> AuditEvent:
    return AuditEvent.objects.get(team=team, sequence=sequence)


def test_chain_written_by_services_verifies(chain):
    report = team_verify_audit(team=chain)

    assert report.ok
    assert report.checked == 5
    assert report.broken_sequence is None


def test_chain_links_each_event_to_the_previous_hash(chain):
    events = list(AuditEvent.objects.filter(team=chain).order_by("sequence"))

    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    assert all(e.hash == event_hash(e) for e in events)
    assert Team.objects.get(pk=chain.pk).audit_head == 5


def test_team_without_events_verifies(team_a):
    report = team_verify_audit(team=team_a)

    assert report.ok
    assert report.checked == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("object_repr", "Something innocent"),
        ("verb", "view"),
        ("actor_name", "someone-else"),
        ("object_id", "999"),
        ("before", {"description": "forged"}),
        ("after", {"name": "forged"}),
        ("system_ref", None),
        ("actor_ref", 424242),
    ],
)
def test_modified_row_is_detected(chain, field, value):
    AuditEvent.objects.filter(team=chain, sequence=3).update(**{field: value})

    report = team_verify_audit(team=chain)

    assert not report.ok
    assert report.broken_sequence == 3
    assert report.reason == "content does not match its hash"
    assert report.checked == 2


def test_modified_timestamp_is_detected(chain):
    original = event(chain, 4).created_at
    AuditEvent.objects.filter(team=chain, sequence=4).update(created_at=original - timedelta(days=1))

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 4)


def test_modified_row_with_a_recomputed_hash_breaks_the_next_link(chain):
    tampered = event(chain, 2)
    tampered.object_repr = "Forged"
    tampered.hash = event_hash(tampered)
    AuditEvent.objects.filter(pk=tampered.pk).update(object_repr=tampered.object_repr, hash=tampered.hash)

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 3)
    assert report.reason == "link to the previous event does not match"


@pytest.mark.parametrize("sequence", [1, 3])
def test_deleted_row_is_detected(chain, sequence):
    AuditEvent.objects.filter(team=chain, sequence=sequence).delete()

    report = team_verify_audit(team=chain)

    assert not report.ok
    assert report.broken_sequence == sequence
    assert report.reason == f"event #{sequence} is missing"


def test_deleted_last_row_is_detected_by_the_head(chain):
    AuditEvent.objects.filter(team=chain, sequence=5).delete()

    report = team_verify_audit(team=chain)

    assert not report.ok
    assert report.checked == 4
    assert report.reason == "chain ends at #4, head says #5"


def test_reordered_rows_are_detected(chain):
    # Swap the sequence numbers of events #2 and #4 (through a spare number: (team, sequence) is unique).
    second, fourth = event(chain, 2).pk, event(chain, 4).pk
    AuditEvent.objects.filter(pk=second).update(sequence=10_000)
    AuditEvent.objects.filter(pk=fourth).update(sequence=2)
    AuditEvent.objects.filter(pk=second).update(sequence=4)

    report = team_verify_audit(team=chain)

    assert not report.ok
    assert report.broken_sequence == 2


def test_reordered_rows_with_swapped_contents_are_detected(chain):
    # Swap everything but the sequence: the rows keep their places but their links no longer match.
    a, b = event(chain, 2), event(chain, 3)
    fields = ["verb", "object_type", "object_id", "object_repr", "before", "after", "created_at", "prev_hash", "hash"]
    AuditEvent.objects.filter(pk=a.pk).update(**{f: getattr(b, f) for f in fields})
    AuditEvent.objects.filter(pk=b.pk).update(**{f: getattr(a, f) for f in fields})

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 2)


def test_tampering_in_one_team_does_not_affect_another(chain, outsider, other_system):
    AuditEvent.objects.filter(team=chain, sequence=2).update(verb="forged")

    assert not team_verify_audit(team=chain).ok
    assert team_verify_audit(team=other_system.team).ok


def test_chains_of_two_teams_are_numbered_independently(chain, other_system):
    team_b = other_system.team

    assert list(AuditEvent.objects.filter(team=team_b).values_list("sequence", flat=True)) == [1, 2]
    assert event(team_b, 1).prev_hash == GENESIS


def test_chain_still_verifies_after_a_system_is_deleted(owner, chain):
    # Deleting a system is a legitimate, audited change; it must not look like tampering.
    system = System.objects.get(team=chain)
    system_delete(actor=owner, system=system)

    report = team_verify_audit(team=chain)

    assert report.ok, report
    assert report.checked == 6


def test_chain_still_verifies_after_an_actor_account_is_deleted(chain, editor):
    system = System.objects.get(team=chain)
    zone_save(actor=editor, system=system, name="Lab")
    editor.delete()

    report = team_verify_audit(team=chain)

    assert report.ok, report


def test_new_team_chain_starts_at_genesis(db):
    team = team_create(name="Fresh", creator=UserFactory())

    first = AuditEvent.objects.get(team=team)
    assert (first.sequence, first.prev_hash) == (1, GENESIS)
    assert team_verify_audit(team=team).ok


# --- The links and the key (issue 13, point 7) ------------------------------------------------


def test_repointed_system_link_is_detected(chain, other_system):
    # The foreign key is what the system page's activity list follows: moving an event to
    # another system must not go unnoticed just because system_ref still holds the old id.
    AuditEvent.objects.filter(team=chain, sequence=3).update(system=other_system)

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 3)
    assert report.reason == "system link does not match the sealed system"


def test_removed_system_link_of_an_existing_system_is_detected(chain):
    AuditEvent.objects.filter(team=chain, sequence=3).update(system=None)

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 3)
    assert report.reason == "system link was removed although the system exists"


def test_repointed_actor_link_is_detected(chain, editor):
    AuditEvent.objects.filter(team=chain, sequence=4).update(actor=editor)

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 4)
    assert report.reason == "actor link does not match the sealed actor"


def test_removed_actor_link_of_an_existing_user_is_detected(chain):
    AuditEvent.objects.filter(team=chain, sequence=4).update(actor=None)

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 4)
    assert report.reason == "actor link was removed although the user exists"


@pytest.mark.parametrize(("field", "value"), [("prev_hash", "f" * 64), ("scheme", 7)])
def test_changed_link_or_scheme_is_detected(chain, field, value):
    AuditEvent.objects.filter(team=chain, sequence=1).update(**{field: value})

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 1)


def test_events_sealed_under_another_key_do_not_verify(chain, settings):
    settings.AUDIT_HMAC_KEY = "another-key-of-at-least-32-characters-0123"

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 1)
    assert report.reason == "content does not match its hash"


def test_seals_do_not_depend_on_secret_key(chain, settings):
    settings.SECRET_KEY = "rotated-secret-key-that-has-nothing-to-do-with-audit"

    assert team_verify_audit(team=chain).ok


def test_a_short_configured_key_is_refused(settings):
    settings.AUDIT_HMAC_KEY = "too-short"

    with pytest.raises(ImproperlyConfigured, match="at least 32 characters"):
        audit_keys()


def test_the_embedded_default_generates_an_owner_only_key_file_once(settings, tmp_path):
    settings.AUDIT_HMAC_KEY = ""
    settings.AUDIT_KEY_FILE = tmp_path / "keys" / ".audit_key"

    first = audit_keys()

    assert settings.AUDIT_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert audit_keys() == first
    assert first.event != first.anchor
    assert len(settings.AUDIT_KEY_FILE.read_text()) >= 32
