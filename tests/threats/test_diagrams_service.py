"""The render task and its service: versions, the render cache, Job rows, failures, caps, chaining."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

import threats.render as render_module
import threats.services.diagrams as diagrams_service
from threats.models import DiagramKind, DiagramState, RenderedDiagram, SystemAttackPaths, SystemDiagram
from threats.services.diagrams import (
    DFD_MAX_NODES,
    RUN_SECONDS,
    prune_render_cache,
    stale_render_targets,
    system_render_diagrams,
)
from threats.services.recompute import system_recompute
from threats.tasks import recompute_system, render_diagrams, sweep_stale_systems
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System
from workbench.services.elements import asset_save, flow_save
from workbench.services.synthetic import system_generate

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed"),
]


@pytest.fixture
def modelled(system: System, owner: Any, library: None) -> System:
    """Team A's system: an anonymous internet API in front of a store that holds the weights."""
    internet = system.zones.get(trust_level=0)
    api = asset_save(
        actor=owner,
        system=system,
        name="Chat API",
        kind="inference_endpoint",
        zone=internet,
        internet_facing=True,
        authentication="none",
    )
    store = asset_save(actor=owner, system=system, name="Bucket", kind="object_store", authentication="sso")
    asset_save(
        actor=owner,
        system=system,
        name="Weights",
        kind="model_weights",
        stored_on=[store],
        criticality=5,
        value_min=1_000_000,
        value_likely=2_000_000,
        value_max=5_000_000,
    )
    flow_save(actor=owner, system=system, name="Load", source=api, target=store, protocol="s3")
    system.refresh_from_db()
    return system


@pytest.fixture
def dot_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every ``dot`` invocation of the test (the real binary still runs)."""
    calls: list[list[str]] = []
    real = subprocess.run

    def counting(args: Any, *rest: Any, **kwargs: Any) -> Any:
        if args and str(args[0]).endswith("/dot"):
            calls.append([str(a) for a in args])
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(render_module.subprocess, "run", counting)
    return calls


def _render(system: System) -> diagrams_service.RenderOutcome:
    system.refresh_from_db()
    return system_render_diagrams(system_id=system.pk, version=system.version)


def test_the_task_stores_paths_and_both_diagrams_for_the_version_and_writes_a_job(modelled: System) -> None:
    result = render_diagrams(system_id=modelled.pk, version=modelled.version)
    assert result["status"] == "rendered" and result["version"] == modelled.version
    job = Job.objects.get(pk=result["job_id"])
    assert (job.kind, job.status, job.system_version) == (JobKind.RENDER, JobStatus.SUCCEEDED, modelled.version)
    assert job.result["diagrams"]["dfd"]["state"] == "ready" and job.finished_at is not None
    paths = SystemAttackPaths.objects.get(system=modelled)
    assert paths.version == modelled.version and paths.k == 5
    weights = next(
        p for p in paths.pairs if p["target"]["name"] == "Weights" and p["profile"]["name"].startswith("Anon")
    )
    assert weights["paths"][0]["assets"] == ["Chat API", "Bucket", "Weights"]
    kinds = {d.kind: d for d in SystemDiagram.objects.filter(system=modelled).select_related("rendered")}
    assert set(kinds) == {DiagramKind.DFD, DiagramKind.ATTACK_PATHS}
    for diagram in kinds.values():
        assert diagram.version == modelled.version and diagram.state == DiagramState.READY
        assert bytes(diagram.rendered.svg).startswith(b"<?xml") and diagram.rendered.dot_hash == diagram.dot_hash
    assert b"Chat API" in bytes(kinds[DiagramKind.ATTACK_PATHS].rendered.svg)


def test_a_second_run_for_the_same_version_does_nothing(modelled: System, dot_runs: list[list[str]]) -> None:
    assert _render(modelled).status == "rendered"
    runs, jobs = len(dot_runs), Job.objects.count()
    assert runs == 2  # one layout per diagram
    assert _render(modelled).status == "fresh"
    assert (len(dot_runs), Job.objects.count()) == (runs, jobs)


def test_the_same_diagrams_after_an_unrelated_edit_are_not_laid_out_again(
    modelled: System, owner: Any, dot_runs: list[list[str]]
) -> None:
    first = _render(modelled)
    cached = RenderedDiagram.objects.count()
    api = modelled.assets.get(name="Chat API")
    asset_save(actor=owner, system=modelled, asset=api, description="Answers chat requests.")  # not drawn
    second = _render(modelled)
    assert second.status == "rendered" and second.version == first.version + 1
    assert len(dot_runs) == 2, "identical DOT is never rendered twice"
    assert RenderedDiagram.objects.count() == cached
    assert all(d["cache_hit"] for d in second.details["diagrams"].values())
    assert set(SystemDiagram.objects.filter(system=modelled).values_list("version", flat=True)) == {second.version}


def test_a_drawn_change_renders_a_new_picture(modelled: System, owner: Any, dot_runs: list[list[str]]) -> None:
    _render(modelled)
    before = dict(SystemDiagram.objects.filter(system=modelled).values_list("kind", "dot_hash"))
    api = modelled.assets.get(name="Chat API")
    asset_save(actor=owner, system=modelled, asset=api, name="Public chat API")
    _render(modelled)
    after = dict(SystemDiagram.objects.filter(system=modelled).values_list("kind", "dot_hash"))
    assert all(before[kind] != after[kind] for kind in before)
    assert len(dot_runs) == 4


def test_a_version_that_is_no_longer_current_is_skipped(modelled: System, owner: Any) -> None:
    old = modelled.version
    asset_save(actor=owner, system=modelled, asset=modelled.assets.get(name="Bucket"), monitored=True)
    jobs = Job.objects.count()
    assert system_render_diagrams(system_id=modelled.pk, version=old).status == "stale"
    assert system_render_diagrams(system_id=modelled.pk, version=old + 99).status == "stale"
    assert system_render_diagrams(system_id=10**9, version=1).status == "gone"
    assert Job.objects.count() == jobs and not SystemDiagram.objects.filter(system=modelled).exists()


def test_a_snapshot_taken_while_the_model_moves_is_not_stored(
    modelled: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = diagrams_service.system_snapshot

    def racing(*, system: System) -> Any:
        snapshot = real(system=system)
        System.objects.filter(pk=system.pk).update(version=F("version") + 1)  # an edit lands now
        return snapshot

    monkeypatch.setattr(diagrams_service, "system_snapshot", racing)
    outcome = _render(modelled)
    assert outcome.status == "stale"
    assert Job.objects.get(pk=outcome.job_id).result == {"stale": True, "version": outcome.version}
    assert not SystemAttackPaths.objects.filter(system=modelled).exists()


def test_when_dot_cannot_run_the_job_fails_with_the_reason_and_the_last_picture_stays(
    modelled: System, owner: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    _render(modelled)
    good = dict(SystemDiagram.objects.filter(system=modelled).values_list("kind", "rendered_id"))
    asset_save(actor=owner, system=modelled, asset=modelled.assets.get(name="Bucket"), name="Renamed bucket")
    monkeypatch.setattr(render_module, "SYSTEM_PATH", str(tmp_path))  # no dot there
    outcome = _render(modelled)
    job = Job.objects.get(pk=outcome.job_id)
    assert job.status == JobStatus.FAILED and "Graphviz 'dot' was not found" in job.error
    for diagram in SystemDiagram.objects.filter(system=modelled):
        assert diagram.state == DiagramState.FAILED and diagram.version == modelled.version
        assert "not found" in diagram.error and diagram.rendered_id == good[diagram.kind]
    assert SystemAttackPaths.objects.get(system=modelled).version == modelled.version
    monkeypatch.undo()
    assert _render(modelled).status == "rendered", "a failed version is retried, not taken as shown"
    assert set(SystemDiagram.objects.filter(system=modelled).values_list("state", flat=True)) == {"ready"}


def test_a_5000_asset_system_renders_capped_within_the_time_limit(owner: Any, team_a: Any, library: None) -> None:
    big = system_generate(actor=owner, team=team_a, name="Generated 5000", assets=5000, seed=3)
    started = time.monotonic()
    outcome = _render(big)
    elapsed = time.monotonic() - started
    assert outcome.status == "rendered" and elapsed < RUN_SECONDS
    dfd = SystemDiagram.objects.get(system=big, kind=DiagramKind.DFD)
    assert dfd.state == DiagramState.READY and dfd.capped
    assert dfd.summary["nodes"] == DFD_MAX_NODES + 1  # the drawn assets and the summary node
    assert b"4000 more assets not drawn" in bytes(dfd.rendered.svg)
    attack = SystemDiagram.objects.get(system=big, kind=DiagramKind.ATTACK_PATHS)
    assert attack.state == DiagramState.READY and attack.summary["nodes"] <= diagrams_service.ATTACK_MAX_NODES + 1
    assert attack.summary["edges"] <= diagrams_service.ATTACK_MAX_EDGES
    summary = SystemAttackPaths.objects.get(system=big).summary
    assert summary["jewels"] > summary["targets"] == diagrams_service.MAX_TARGETS
    assert Job.objects.get(pk=outcome.job_id).status == JobStatus.SUCCEEDED


def test_unreferenced_cache_rows_are_pruned_to_a_bound(modelled: System) -> None:
    _render(modelled)
    referenced = set(SystemDiagram.objects.values_list("rendered_id", flat=True))
    old = timezone.now() - timedelta(days=2)
    for n in range(6):
        RenderedDiagram.objects.create(dot_hash=f"{n:064d}", dot="digraph {}", svg=b"<svg/>", used_at=old)
    RenderedDiagram.objects.create(dot_hash="f" * 64, dot="digraph {}", svg=b"<svg/>")  # just used: in grace
    assert prune_render_cache(keep=2) == 5  # the two most recently used stay: the fresh one and one old
    left = set(RenderedDiagram.objects.values_list("pk", flat=True))
    assert referenced <= left and len(left) == len(referenced) + 2
    assert prune_render_cache(keep=0) == 1, "a row used within the grace period is never pruned"
    assert RenderedDiagram.objects.filter(dot_hash="f" * 64).exists()


def test_a_computed_recompute_chains_one_render_for_its_version(
    modelled: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[dict[str, int]] = []
    monkeypatch.setattr(render_diagrams, "delay", lambda **kwargs: queued.append(kwargs))
    assert recompute_system(system_id=modelled.pk)["status"] == "computed"
    assert queued == [{"system_id": modelled.pk, "version": modelled.version}]
    assert recompute_system(system_id=modelled.pk)["status"] == "fresh"
    assert len(queued) == 1, "only a computed version is rendered"


def test_a_failed_render_enqueue_is_logged_never_raised(
    modelled: System, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broker_down(**kwargs: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(render_diagrams, "delay", broker_down)
    with caplog.at_level(logging.ERROR):
        assert recompute_system(system_id=modelled.pk)["status"] == "computed"
    assert "could not enqueue the diagram render" in caplog.text


def test_the_sweep_finds_systems_whose_diagrams_lag_behind_their_risk(
    modelled: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (modelled.pk, modelled.version) not in stale_render_targets(), "risk not computed yet: not a render's turn"
    system_recompute(system_id=modelled.pk)
    assert (modelled.pk, modelled.version) in stale_render_targets()
    queued: list[dict[str, int]] = []
    monkeypatch.setattr(render_diagrams, "delay", lambda **kwargs: queued.append(kwargs))
    assert sweep_stale_systems() == {"enqueued": 0, "renders": 1}
    assert queued == [{"system_id": modelled.pk, "version": modelled.version}]
    job = Job.objects.create(
        team=modelled.team, system=modelled, kind=JobKind.RENDER, status=JobStatus.RUNNING, started_at=timezone.now()
    )
    assert modelled.pk not in dict(stale_render_targets()), "a live render is left alone"
    job.status, job.system_version = JobStatus.FAILED, modelled.version
    job.save()
    assert modelled.pk not in dict(stale_render_targets()), "a version whose render crashed is not retried"
    job.delete()
    assert (modelled.pk, modelled.version) in stale_render_targets()
    _render(modelled)
    assert modelled.pk not in dict(stale_render_targets())
