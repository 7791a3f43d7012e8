"""Signed anchors of the chain heads, kept outside the database: written by ``verify_audit
--anchor`` and a beat task, checked by ``verify_audit``, refused when altered or forged."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.workbench.audit_support import reseal_unkeyed, verify_output
from workbench.celery import app
from workbench.models import AuditEvent, System, Team
from workbench.services.audit import event_hash, team_verify_audit
from workbench.services.audit_anchor import anchor_book_read, anchor_path
from workbench.services.elements import zone_save
from workbench.tasks import anchor_audit_chains

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors.jsonl")
    return tmp_path / "anchors.jsonl"


@pytest.fixture
def chain(owner, system: System) -> Team:
    """Team A with four events: system create, seed defaults and two zones."""
    zone_save(actor=owner, system=system, name="DMZ", trust_level=1)
    zone_save(actor=owner, system=system, name="Core", trust_level=3)
    return system.team


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def cut_to(team: Team, sequence: int) -> None:
    AuditEvent.objects.filter(team=team, sequence__gt=sequence).delete()
    Team.objects.filter(pk=team.pk).update(audit_head=sequence)


def test_anchor_appends_one_signed_owner_only_line_per_team(chain, other_system, anchor_file):
    out = verify_output("--anchor", ok=True)

    written = lines(anchor_file)
    assert [(a["slug"], a["sequence"]) for a in written] == [("acme", 4), ("bravo", 2)]
    head = AuditEvent.objects.get(team=chain, sequence=4)
    assert (written[0]["team"], written[0]["event"], written[0]["hash"]) == (chain.pk, head.pk, head.hash)
    assert len(written[0]["sig"]) == 64
    assert anchor_file.stat().st_mode & 0o777 == 0o600
    assert f"acme: anchored at #4 in {anchor_file}" in out


def test_anchor_goes_to_the_log_too(chain, caplog):
    with caplog.at_level(logging.INFO, logger="workbench.audit.anchor"):
        verify_output("acme", "--anchor", ok=True)

    [record] = [r for r in caplog.records if r.name == "workbench.audit.anchor"]
    assert '"slug":"acme"' in record.getMessage()
    assert '"sig":"' in record.getMessage()


def test_verify_reports_how_many_anchors_it_checked(chain, owner):
    verify_output("--anchor", ok=True)
    zone_save(actor=owner, system=System.objects.get(team=chain), name="Lab")
    verify_output("--anchor", ok=True)

    assert "acme: ok, 5 events, 2 anchors" in verify_output("acme", ok=True)


def test_periodic_task_anchors_only_heads_that_moved(chain, owner, anchor_file):
    first = anchor_audit_chains()
    again = anchor_audit_chains()
    zone_save(actor=owner, system=System.objects.get(team=chain), name="Lab")
    moved = anchor_audit_chains()

    assert (first["written"], again["written"], again["unchanged"], moved["written"]) == (1, 0, 1, 1)
    assert [a["sequence"] for a in lines(anchor_file)] == [4, 5]


def test_beat_runs_the_anchor_task():
    entry = django_settings.CELERY_BEAT_SCHEDULE["anchor-audit-chains"]

    assert entry["task"] == "workbench.anchor_audit_chains"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == django_settings.AUDIT_ANCHOR_SECONDS


def test_every_anchor_is_checked_not_only_the_latest(chain):
    # A cut tail followed by a fresh anchor of the shortened chain is still caught by the
    # anchor written before the cut.
    verify_output("--anchor", ok=True)
    cut_to(chain, 2)
    anchor_audit_chains()

    out = verify_output("acme", ok=False)

    assert "acme: BROKEN at event #3: chain ends at #2, but the anchor of " in out
    assert "(anchor line 1) says #4" in out


def test_key_holder_rewrite_is_caught_by_an_earlier_anchor(chain):
    # With the key, history can be rewritten and re-sealed; an anchor written before still
    # names the old head hash (docs/audit-chain.md).
    verify_output("--anchor", ok=True)
    prev = AuditEvent.objects.get(team=chain, sequence=1).hash
    for event in AuditEvent.objects.filter(team=chain, sequence__gte=2).order_by("sequence"):
        if event.sequence == 2:
            event.object_repr = "Rewritten"
        event.prev_hash = prev
        event.hash = prev = event_hash(event)
        AuditEvent.objects.filter(pk=event.pk).update(
            object_repr=event.object_repr, prev_hash=event.prev_hash, hash=event.hash
        )

    report = team_verify_audit(team=chain)

    assert (report.ok, report.broken_sequence) == (False, 4)
    assert report.reason.startswith("event does not match the anchor of ")


def test_an_altered_anchor_line_is_refused(chain, anchor_file):
    verify_output("--anchor", ok=True)
    anchor = lines(anchor_file)[0]
    anchor["sequence"] = 2
    anchor["hash"] = AuditEvent.objects.get(team=chain, sequence=2).hash
    anchor_file.write_text(json.dumps(anchor) + "\n")

    out = verify_output("acme", ok=False)

    assert "acme: BROKEN: anchor line 1: anchor signature does not match: the line was forged or altered" in out


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "line is not JSON"),
        ("[1, 2]", "line is not an anchor object"),
        ('{"team": 1}', "line does not have the fields of an anchor"),
        ("x" * 5000, "line is too long to be an anchor"),
    ],
)
def test_a_line_that_is_no_anchor_fails_verification(chain, anchor_file, line, reason):
    verify_output("--anchor", ok=True)
    with anchor_file.open("a") as handle:
        handle.write(line + "\n")

    out = verify_output(ok=False)

    assert f"anchor line 2: {reason}" in out


def test_an_anchor_signed_with_another_key_names_both_keys(chain, settings):
    verify_output("--anchor", ok=True)
    settings.AUDIT_HMAC_KEY = "another-key-of-at-least-32-characters-0123"

    [problem] = anchor_book_read().problems

    assert problem.team_id == chain.pk
    assert "anchor is signed with another key (id " in problem.reason


def test_an_off_box_copy_catches_a_cut_the_local_file_no_longer_shows(chain, anchor_file, tmp_path):
    verify_output("--anchor", ok=True)
    off_box = tmp_path / "off-box.jsonl"
    shutil.copy(anchor_file, off_box)
    anchor_file.write_text("")  # someone with access to this machine emptied the local copy
    cut_to(chain, 2)

    verify_output("acme", ok=True)
    out = verify_output("acme", "--anchors", str(off_box), ok=False)

    assert "acme: BROKEN at event #3: chain ends at #2, but the anchor of " in out


def test_an_unkeyed_chain_is_not_anchored(chain, anchor_file):
    reseal_unkeyed(chain, scheme=1)

    run = anchor_audit_chains()

    assert run["written"] == 0
    assert "--reseal" in run["skipped"]["acme"]
    assert not anchor_file.exists()


def test_a_broken_chain_is_not_anchored_by_the_command(chain, anchor_file):
    AuditEvent.objects.filter(team=chain, sequence=2).update(verb="forged")

    out = verify_output("--anchor", ok=False)

    assert "acme: BROKEN at event #2" in out
    assert not anchor_file.exists()


def test_default_anchor_file_is_one_per_database(settings):
    settings.AUDIT_ANCHOR_PATH = ""

    path = anchor_path()

    assert path.parent == settings.BASE_DIR / "var" / "audit-anchors"
    assert path.name.startswith(f"{connection.vendor}-")
    assert path.suffix == ".jsonl"
