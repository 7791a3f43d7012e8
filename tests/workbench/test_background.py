"""``workbench.background``: enqueue by name with the outage guard, Job runs, and what a change triggers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import transaction

from tests.factories import SystemFactory
from workbench import background
from workbench.background import JobRun, QueueFull, enqueue, enqueue_on_commit, hold_system_changes, system_changed
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``mitigations.send_notification_email`` was asked to send, in place of sending it."""
    calls: list[dict[str, Any]] = []
    task = background.registered_task("mitigations.send_notification_email")
    monkeypatch.setattr(task, "delay", lambda **kwargs: calls.append(kwargs))
    return calls


def test_a_task_is_found_by_its_registered_name() -> None:
    from mitigations.tasks import send_notification_email

    assert (
        background.registered_task("mitigations.send_notification_email")
        is send_notification_email._get_current_object()
    )
    with pytest.raises(KeyError):
        background.registered_task("mitigations.no_such_task")


def test_enqueue_queues_the_named_task_with_its_arguments(sent: list[dict[str, Any]]) -> None:
    assert enqueue("mitigations.send_notification_email", {"subject": "s", "body": "b", "recipients": []}, about="x")
    assert sent == [{"subject": "s", "body": "b", "recipients": []}]


def test_a_broker_error_is_logged_handed_to_on_failure_and_never_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broker_down(**kwargs: Any) -> None:
        raise ConnectionError("redis is down")

    task = background.registered_task("mitigations.send_notification_email")
    monkeypatch.setattr(task, "delay", broker_down)
    failures: list[Exception] = []
    with caplog.at_level(logging.ERROR):
        queued = enqueue("mitigations.send_notification_email", {}, about="the test email", on_failure=failures.append)
    assert queued is False
    assert "could not enqueue the test email" in caplog.text
    assert [background.problem(exc) for exc in failures] == ["ConnectionError: redis is down"]


@pytest.mark.django_db
def test_enqueue_on_commit_waits_for_the_commit_and_a_rollback_queues_nothing(
    sent: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    kwargs = {"subject": "s", "body": "b", "recipients": ["a@example.test"]}
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - the rollback is the point
        enqueue_on_commit("mitigations.send_notification_email", kwargs, about="x")
        raise RuntimeError
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("mitigations.send_notification_email", kwargs, about="x")
        assert sent == []
    assert sent == [kwargs]


def test_a_misspelt_name_fails_the_caller_not_the_commit() -> None:
    with pytest.raises(KeyError):
        enqueue_on_commit("mitigations.send_notification_mail", {}, about="x")


@pytest.fixture
def embedded() -> Any:
    """Tasks run in the caller (the embedded default), even where CI configures a broker."""
    from workbench.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


def test_off_thread_runs_go_to_the_pool_in_the_embedded_mode(embedded: None, monkeypatch: pytest.MonkeyPatch) -> None:
    submitted: list[Any] = []
    monkeypatch.setattr(background.pool, "submit", lambda fn, **kwargs: submitted.append(kwargs) or True)
    assert enqueue("mitigations.send_notification_email", {"recipients": []}, about="x", off_thread=True)
    assert submitted == [{"kwargs": {"recipients": []}}]

    failures: list[Exception] = []
    monkeypatch.setattr(background.pool, "submit", lambda fn, **kwargs: False)
    assert not enqueue(
        "mitigations.send_notification_email", {}, about="x", off_thread=True, on_failure=failures.append
    )
    assert [type(exc) for exc in failures] == [QueueFull]
    assert background.problem(failures[0]) == "the background queue is full"


# --- JobRun -------------------------------------------------------------------------------


@pytest.fixture
def system(db: None) -> System:
    """A system made by the factory: no version bump, so no change callback is pending already."""
    return SystemFactory()


def test_a_run_goes_from_queued_to_succeeded(system: System) -> None:
    run = JobRun.create(team=system.team, kind=JobKind.RECOMPUTE, system=system, system_version=3)
    assert run.queued
    with run.running(task_id="t" * 80):
        run.progress(140)
        assert Job.objects.get(pk=run.job.pk).progress == 100
    run.finish({"version": 3})
    job = Job.objects.get(pk=run.job.pk)
    assert (job.status, job.task_id, job.result, job.progress) == (JobStatus.SUCCEEDED, "t" * 64, {"version": 3}, 100)
    assert job.started_at is not None and job.finished_at is not None


def test_a_crash_inside_running_fails_the_job_and_propagates(system: System) -> None:
    run = JobRun.create(team=system.team, kind=JobKind.RENDER, system=system)
    with pytest.raises(ValueError, match="no dot"), run.running(task_id="t1"):
        raise ValueError("no dot")
    job = Job.objects.get(pk=run.job.pk)
    assert (job.status, job.error) == (JobStatus.FAILED, "ValueError: no dot")


def test_a_finish_that_rolled_back_is_a_failure(system: System) -> None:
    run = JobRun.create(team=system.team, kind=JobKind.RECOMPUTE, system=system)
    with pytest.raises(RuntimeError), run.running(task_id="t1"), transaction.atomic():  # noqa: PT012
        run.finish({"version": 1})
        raise RuntimeError("commit failed")
    assert Job.objects.get(pk=run.job.pk).status == JobStatus.FAILED


def test_a_failure_keeps_its_result(system: System) -> None:
    run = JobRun.create(team=system.team, kind=JobKind.AUDIT_VERIFY)
    run.start()
    run.fail("x" * 20000, result={"ok": False})
    job = Job.objects.get(pk=run.job.pk)
    assert (job.status, len(job.error), job.result) == (JobStatus.FAILED, 10000, {"ok": False})


def test_a_redelivered_message_resumes_the_job_its_first_delivery_started(system: System) -> None:
    first = JobRun.resumed_or_new(system=system, kind=JobKind.RECOMPUTE, version=1, token="task-1")
    first.start(task_id="task-1")
    assert JobRun.resumed_or_new(system=system, kind=JobKind.RECOMPUTE, version=1, token="task-1").job == first.job
    other = JobRun.resumed_or_new(system=system, kind=JobKind.RECOMPUTE, version=1, token="task-2")
    assert other.job != first.job and other.queued


# --- what a committed change triggers -----------------------------------------------------


def test_a_change_schedules_its_work_once_per_system_per_transaction(
    system: System, django_capture_on_commit_callbacks: Any
) -> None:
    other = SystemFactory(team=system.team)
    with hold_system_changes() as held, django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            system_changed(system.pk)
            system_changed(other.pk)
            system_changed(system.pk)
        assert held == []  # nothing before the commit
    assert held == [system.pk, other.pk]


def test_after_commit_the_recompute_is_queued_and_plans_are_checked(
    system: System, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from mitigations.services import obsolete

    queued: list[dict[str, Any]] = []
    checked: list[int] = []
    monkeypatch.setattr(background.registered_task(background.RECOMPUTE_TASK), "delay", lambda **k: queued.append(k))
    monkeypatch.setattr(obsolete, "on_system_changed", checked.append)
    with django_capture_on_commit_callbacks(execute=True):
        system_changed(system.pk)
    assert queued == [{"system_id": system.pk}]
    assert checked == [system.pk]


FOLLOWED: list[tuple[str, int]] = []


def first_followup(system_id: int) -> None:
    FOLLOWED.append(("first", system_id))


def second_followup(system_id: int) -> None:
    FOLLOWED.append(("second", system_id))


def test_the_followups_are_the_declared_list_run_in_order_after_the_recompute_is_queued(
    system: System, settings: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    assert settings.SYSTEM_CHANGE_FOLLOWUPS == ["mitigations.services.obsolete.on_system_changed"]
    settings.SYSTEM_CHANGE_FOLLOWUPS = [f"{__name__}.second_followup", f"{__name__}.first_followup"]
    FOLLOWED.clear()
    monkeypatch.setattr(
        background.registered_task(background.RECOMPUTE_TASK), "delay", lambda **k: FOLLOWED.append(("queued", 0))
    )
    with django_capture_on_commit_callbacks(execute=True):
        system_changed(system.pk)
    assert [("queued", 0), ("second", system.pk), ("first", system.pk)] == FOLLOWED


def test_holds_nest_and_each_block_records_its_own(system: System, django_capture_on_commit_callbacks: Any) -> None:
    other = SystemFactory(team=system.team)
    with hold_system_changes() as outer:
        with hold_system_changes() as inner, django_capture_on_commit_callbacks(execute=True):
            system_changed(system.pk)
        with django_capture_on_commit_callbacks(execute=True):
            system_changed(other.pk)
    assert (inner, outer) == ([system.pk], [other.pk])
