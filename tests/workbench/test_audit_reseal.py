"""Chains written before migration 0008 (unkeyed SHA-256): verification points at the one-time
``verify_audit --reseal``, which checks the old chain, re-seals it with the key and anchors it,
and refuses anything broken or anything that looks like a downgrade of a keyed chain."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.workbench.audit_support import reseal_unkeyed, unkeyed_hash, verify_output
from workbench.models import AuditEvent, System, Team
from workbench.models.audit import ChainScheme
from workbench.services.audit import team_verify_audit
from workbench.services.elements import zone_save

pytestmark = pytest.mark.django_db

BEFORE = ("workbench", "0007_element_team_matches_system")


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors.jsonl")
    return tmp_path / "anchors.jsonl"


@pytest.fixture
def old_chain(owner, system: System) -> Team:
    """Team A's four events as the code before migration 0008 left them: unkeyed, scheme 1."""
    zone_save(actor=owner, system=system, name="DMZ", trust_level=1)
    zone_save(actor=owner, system=system, name="Core", trust_level=3)
    reseal_unkeyed(system.team, scheme=ChainScheme.SHA256)
    return system.team


def seals(team: Team) -> list[tuple[int, str, str]]:
    return list(AuditEvent.objects.filter(team=team).order_by("sequence").values_list("scheme", "prev_hash", "hash"))


def test_an_unkeyed_chain_fails_verification_and_names_the_reseal(old_chain):
    out = verify_output("acme", ok=False)

    assert "acme: BROKEN at event #1: event is sealed with the unkeyed SHA-256 of before migration 0008" in out
    assert "verify_audit --reseal" in out


def test_reseal_rekeys_the_chain_anchors_it_and_it_then_verifies(old_chain, anchor_file):
    contents = list(AuditEvent.objects.filter(team=old_chain).values_list("verb", "object_repr", "after"))

    out = verify_output("acme", "--reseal", ok=True)

    assert "acme: re-sealed 4 events with the audit key, anchored at #4" in out
    assert {scheme for scheme, _, _ in seals(old_chain)} == {ChainScheme.HMAC}
    assert list(AuditEvent.objects.filter(team=old_chain).values_list("verb", "object_repr", "after")) == contents
    assert '"sequence":4' in anchor_file.read_text()
    assert "acme: ok, 4 events, 1 anchors" in verify_output("acme", ok=True)


def test_reseal_covers_keyed_events_written_after_the_upgrade(old_chain, owner):
    zone_save(actor=owner, system=System.objects.get(team=old_chain), name="Lab")
    assert seals(old_chain)[-1][0] == ChainScheme.HMAC

    out = verify_output("acme", "--reseal", ok=True)

    assert "acme: re-sealed 4 events" in out
    assert team_verify_audit(team=old_chain).ok
    assert team_verify_audit(team=old_chain).checked == 5


def test_reseal_refuses_a_broken_old_chain_and_changes_nothing(old_chain, anchor_file):
    AuditEvent.objects.filter(team=old_chain, sequence=3).update(object_repr="Forged")
    before = seals(old_chain)

    out = verify_output("acme", "--reseal", ok=False)

    assert "acme: NOT re-sealed: old chain is broken at event #3: content does not match its hash" in out
    assert seals(old_chain) == before
    assert not anchor_file.exists()


def test_reseal_refuses_an_anchored_chain_downgraded_to_unkeyed(owner, system):
    # Anchors are written only for keyed chains: unkeyed events in an anchored chain were
    # forged (someone recomputed plain SHA-256), and re-sealing would launder the forgery.
    zone_save(actor=owner, system=system, name="DMZ")
    verify_output("--anchor", ok=True)
    AuditEvent.objects.filter(team=system.team, sequence=2).update(object_repr="Forged")
    reseal_unkeyed(system.team, scheme=ChainScheme.SHA256)
    before = seals(system.team)

    out = verify_output("acme", "--reseal", ok=False)

    assert "acme: NOT re-sealed: team has anchors, so its chain was keyed" in out
    assert seals(system.team) == before


def test_reseal_of_a_keyed_chain_changes_nothing(owner, system):
    before = seals(system.team)

    out = verify_output("acme", "--reseal", ok=True)

    assert "acme: ok, chain is keyed already" in out
    assert seals(system.team) == before


def test_reseal_refuses_an_unkeyed_event_after_keyed_ones(owner, system):
    zone_save(actor=owner, system=system, name="DMZ")
    reseal_unkeyed(system.team, from_sequence=3, scheme=ChainScheme.SHA256)

    out = verify_output("acme", "--reseal", ok=False)

    assert "old chain is broken at event #3: event claims the unkeyed seal after keyed events" in out


@pytest.mark.django_db(transaction=True)
def test_migration_0008_keeps_an_existing_chain_verifiable_through_the_reseal():
    # A database at 0007 with a chain written by the old code; migrate; re-seal; verify.
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    team = old.get_model("workbench", "Team").objects.create(name="Old", slug="old", audit_head=2)
    prev = "0" * 64
    for sequence in (1, 2):
        event = old.get_model("workbench", "AuditEvent")(
            team=team,
            sequence=sequence,
            actor_name="system",
            verb="create",
            object_type="team",
            object_id=str(team.pk),
            object_repr="Old",
            after={"name": "Old", "step": sequence},
            created_at=timezone.now(),
            prev_hash=prev,
        )
        event.hash = prev = unkeyed_hash(event)
        event.save()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    migrated = Team.objects.get(slug="old")
    assert [scheme for scheme, _, _ in seals(migrated)] == [ChainScheme.SHA256, ChainScheme.SHA256]
    assert not team_verify_audit(team=migrated).ok
    assert "re-sealed 2 events" in verify_output("old", "--reseal", ok=True)
    assert team_verify_audit(team=migrated).ok
