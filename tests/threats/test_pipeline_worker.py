"""The recompute pipeline against a real Celery worker on Redis and PostgreSQL (run in CI)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.factories import exposed_classifier
from threats.models import SystemRisk
from threats.services.library import library_seed
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System
from workbench.services.elements import asset_save
from workbench.services.systems import system_create
from workbench.services.teams import team_create


def _wait_fresh(system: System, timeout: float = 30.0) -> SystemRisk:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        system.refresh_from_db()
        risk = SystemRisk.objects.filter(system=system).first()
        running = Job.objects.filter(system=system, status=JobStatus.RUNNING).exists()
        if risk is not None and risk.computed_version == system.version and not running:
            return risk
        time.sleep(0.05)
    raise AssertionError(f"results still behind version {system.version} after {timeout}s")


@pytest.fixture
def world(transactional_db: Any) -> dict[str, Any]:
    library_seed()
    user = get_user_model().objects.create_user("pipeline-owner", password="x" * 16)
    team = team_create(name="Pipeline team", creator=user)
    system = system_create(actor=user, team=team, name="Pipeline system")
    _, api = exposed_classifier(actor=user, system=system)
    return {"user": user, "system": system, "api": api}


def test_an_edit_is_recomputed_by_the_worker_for_the_new_version(celery_worker: Any, world: dict[str, Any]) -> None:
    system, user, api = world["system"], world["user"], world["api"]
    first = _wait_fresh(system)
    extraction_before = system.findings.get(template__code="T-EXTRACT-API", asset=api)
    asset_save(
        actor=user, system=system, asset=api, authentication="api_key", rate_limited=True, rate_limit_per_minute=30
    )
    second = _wait_fresh(system)
    assert second.computed_version == system.version > first.computed_version
    extraction_after = system.findings.get(template__code="T-EXTRACT-API", asset=api)
    # v2: a key and a quota lengthen the extraction budget; the finding stays, priced lower.
    assert extraction_before.status == extraction_after.status == "open"
    assert extraction_after.current_mean < extraction_before.current_mean
    assert extraction_after.risk_version == system.version
    job = Job.objects.filter(system=system, kind=JobKind.RECOMPUTE).order_by("-pk").first()
    assert job.status == JobStatus.SUCCEEDED and job.system_version == system.version and job.task_id


def test_a_burst_of_50_edits_coalesces_into_fewer_recomputes(celery_worker: Any, world: dict[str, Any]) -> None:
    system, user, api = world["system"], world["user"], world["api"]
    _wait_fresh(system)
    before = Job.objects.filter(system=system, kind=JobKind.RECOMPUTE).count()
    for n in range(50):
        asset_save(actor=user, system=system, asset=api, description=f"edit {n}")
    risk = _wait_fresh(system, timeout=60)
    system.refresh_from_db()
    runs = Job.objects.filter(system=system, kind=JobKind.RECOMPUTE).count() - before
    assert risk.computed_version == system.version
    assert 1 <= runs < 50, f"{runs} recomputes for 50 edits"
    assert not Job.objects.filter(system=system, status=JobStatus.FAILED).exists()
