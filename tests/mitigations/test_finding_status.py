"""threats.services.finding_status: the one writer of a finding's status outside the pipeline.

Accepting a risk and ending an acceptance go through it, so the recompute lock (the system's
``SystemRisk`` row) is read before the finding, and the write lands on the row and the object.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mitigations.services.acceptances import acceptance_create
from threats.models import Finding, FindingStatus
from threats.services.finding_status import finding_lock

pytestmark = pytest.mark.django_db


def test_the_lock_reads_the_systems_risk_row_before_the_finding_and_the_write_lands(extraction):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = finding_lock(system_id=extraction.system_id, finding_id=extraction.pk)
        locked.set_status(FindingStatus.ACCEPTED)

    tables = [next(t for t in ("threats_systemrisk", "threats_finding") if t in q["sql"]) for q in queries[:2]]
    assert tables == ["threats_systemrisk", "threats_finding"]
    assert locked.finding.status == FindingStatus.ACCEPTED
    assert locked.finding.template.code == "T-EXTRACT-API"  # loaded with it, for the audit record
    assert Finding.objects.get(pk=extraction.pk).status == FindingStatus.ACCEPTED


def test_an_acceptance_changes_the_status_through_the_lock(monkeypatch, risk_owner, extraction):
    seen: list[tuple[int, int]] = []

    def spy(*, system_id: int, finding_id: int):
        seen.append((system_id, finding_id))
        return finding_lock(system_id=system_id, finding_id=finding_id)

    monkeypatch.setattr("mitigations.services.acceptances.finding_lock", spy)
    acceptance_create(
        actor=risk_owner,
        finding=extraction,
        justification="Compensated by contractual terms with the only API customer.",
        expires_on=timezone.localdate() + timedelta(days=30),
    )

    assert seen == [(extraction.system_id, extraction.pk)]
    assert Finding.objects.get(pk=extraction.pk).status == FindingStatus.ACCEPTED
