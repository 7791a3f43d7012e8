"""The render chained after a recompute, on a real Celery worker with Redis and PostgreSQL (CI)."""

from __future__ import annotations

import shutil
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.factories import exposed_classifier
from threats.models import DiagramState, SystemAttackPaths, SystemDiagram
from threats.services.library import library_seed
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System
from workbench.services.elements import asset_save
from workbench.services.systems import system_create
from workbench.services.teams import team_create

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def _wait_drawn(system: System, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        system.refresh_from_db()
        versions = set(SystemDiagram.objects.filter(system=system).values_list("version", "state"))
        if (
            versions == {(system.version, DiagramState.READY)}
            and SystemAttackPaths.objects.filter(system=system, version=system.version).exists()
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"diagrams still behind version {system.version} after {timeout}s")


def test_an_edit_is_recomputed_then_drawn_by_the_worker(celery_worker: Any, transactional_db: Any) -> None:
    library_seed()
    user = get_user_model().objects.create_user("render-owner", password="x" * 16)
    team = team_create(name="Render team", creator=user)
    system = system_create(actor=user, team=team, name="Render system")
    _, api = exposed_classifier(actor=user, system=system, model_name="Weights")
    _wait_drawn(system)
    first = system.version
    asset_save(actor=user, system=system, asset=api, authentication="api_key")
    _wait_drawn(system)
    assert system.version > first
    renders = Job.objects.filter(system=system, kind=JobKind.RENDER, status=JobStatus.SUCCEEDED)
    assert renders.filter(system_version=system.version).exists()
    assert not Job.objects.filter(system=system, status=JobStatus.FAILED).exists()
    pairs = SystemAttackPaths.objects.get(system=system).pairs
    anonymous = next(p for p in pairs if p["profile"]["name"] == "Anonymous API user")
    # v2: the anonymous user queries the API as a caller and extracts the model it serves.
    assert anonymous["paths"][0]["assets"] == ["Chat API (as a caller)", "Weights"]
