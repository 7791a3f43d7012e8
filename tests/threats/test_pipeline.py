"""The recompute pipeline at service level: claims, idempotency, freshness, sweep, broker failure."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.service_plugin import reset_broker_pools
from threats.models import SystemRisk
from threats.selectors_risk import risk_freshness
from threats.services.claims import claim_version
from threats.services.recompute import enqueue_recompute, stale_system_ids, system_recompute
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def modelled(exposed_llm: System, owner: Any) -> System:
    """The exposed endpoint plus the weights it serves, hosted on it."""
    api = exposed_llm.assets.get(name="Chat API")
    asset_save(
        actor=owner,
        system=exposed_llm,
        name="Weights",
        kind="model_weights",
        hosted_on=api,
        criticality=5,
        value_min=10_000_000,
        value_likely=30_000_000,
        value_max=90_000_000,
    )
    exposed_llm.refresh_from_db()
    return exposed_llm


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_recompute_tags_results_with_the_version_and_records_a_job(modelled: System) -> None:
    outcome = system_recompute(system_id=modelled.pk)
    assert outcome.status == "computed" and outcome.version == modelled.version
    risk = SystemRisk.objects.get(system=modelled)
    assert risk.computed_version == modelled.version
    assert risk.totals["current"]["mean"] > 0
    job = Job.objects.get(pk=outcome.job_id)
    assert (job.kind, job.status, job.system_version) == (JobKind.RECOMPUTE, JobStatus.SUCCEEDED, modelled.version)
    assert risk_freshness(system=modelled).fresh


def test_a_second_run_for_the_same_version_writes_nothing(modelled: System) -> None:
    system_recompute(system_id=modelled.pk)
    jobs = Job.objects.count()
    with CaptureQueriesContext(connection) as queries:
        outcome = system_recompute(system_id=modelled.pk)
    assert outcome.status == "fresh"
    assert _writes(queries) == []
    assert Job.objects.count() == jobs


def test_an_edit_makes_results_stale_until_recomputed(modelled: System, owner: Any) -> None:
    system_recompute(system_id=modelled.pk)
    api = modelled.assets.get(name="Chat API")
    asset_save(actor=owner, system=modelled, asset=api, authentication="api_key", rate_limited=True)
    modelled.refresh_from_db()
    freshness = risk_freshness(system=modelled)
    assert not freshness.fresh and freshness.state == "recomputing"
    assert modelled.pk in stale_system_ids()
    system_recompute(system_id=modelled.pk)
    assert SystemRisk.objects.get(system=modelled).computed_version == modelled.version
    assert modelled.pk not in stale_system_ids()


def test_a_live_claim_by_another_worker_is_respected_but_the_same_task_may_reclaim(modelled: System) -> None:
    assert claim_version(system_id=modelled.pk, version=modelled.version, token="task-a")
    assert system_recompute(system_id=modelled.pk, token="task-b").status == "claimed_elsewhere"
    assert modelled.pk not in stale_system_ids()  # being computed: the sweep leaves it alone
    # A redelivered message keeps its task id and finishes the work.
    assert system_recompute(system_id=modelled.pk, token="task-a").status == "computed"


def test_results_for_an_older_version_never_overwrite_newer_ones(modelled: System, owner: Any) -> None:
    system_recompute(system_id=modelled.pk)
    risk = SystemRisk.objects.get(system=modelled)
    assert not claim_version(system_id=modelled.pk, version=risk.computed_version - 1, token="late")


def test_same_model_and_seed_give_identical_numbers(modelled: System) -> None:
    system_recompute(system_id=modelled.pk)
    first = SystemRisk.objects.get(system=modelled).totals
    SystemRisk.objects.filter(system=modelled).update(computed_version=0, claimed_version=0, claimed_at=None)
    system_recompute(system_id=modelled.pk)
    assert SystemRisk.objects.get(system=modelled).totals == first


def test_a_broker_failure_is_logged_and_never_raised(modelled: System, settings, caplog) -> None:
    from workbench.celery import app

    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    reset_broker_pools()
    try:
        with caplog.at_level(logging.ERROR):
            enqueue_recompute(modelled.pk)
    finally:
        app.conf.broker_url, app.conf.task_always_eager = old
        reset_broker_pools()
    assert "could not enqueue recompute" in caplog.text
