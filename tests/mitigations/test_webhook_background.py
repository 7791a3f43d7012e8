"""Issue 13.3, continued: no delivery inside the request in the embedded default (a slow receiver
no longer holds a proposal open), a bounded background queue, and a settings page that says
"delivered" / "failed (status NNN)" / "failed (reason)" but never shows what a receiver answered."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.urls import reverse

from mitigations import webhooks, workflow
from mitigations.models import MitigationPlan, TeamWebhook, WebhookDelivery
from mitigations.services.transitions import plan_transition
from mitigations.services.webhooks import webhook_configure
from tests.mitigations.receivers import Banner, Receiver
from workbench import background
from workbench.background import hold_system_changes
from workbench.choices import JobKind, JobStatus
from workbench.models import Job

SECRET = "SECRET-INTERNAL-47b1"


@pytest.mark.django_db(transaction=True)
def test_a_proposal_answers_at_once_while_a_slow_receiver_takes_5_seconds(
    client_as, owner, team_a, editor, extraction, rate_quota, in_process_tasks, local_receivers, monkeypatch
):
    """The embedded default (tasks in-process, no broker): the delivery runs on a background
    thread and reaches the receiver after its 5 s; the page request does not wait for it."""
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 10.0)
    with hold_system_changes(), Receiver(delay=5.0) as receiver:  # time the webhook, not the recompute
        webhook_configure(actor=owner, team=team_a, url=receiver.url)
        client = client_as("editor")
        started = time.monotonic()
        response = client.post(
            reverse("mitigations:plan_new", args=[extraction.system.slug]),
            {"control": rate_quota.code, "findings": [extraction.pk]},
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 302
        assert elapsed < 1.0, f"the proposal took {elapsed:.1f} s"
        assert background.pool.drain(timeout=20)

    [(_, body)] = receiver.requests
    assert b'"event":"plan.proposed"' in body
    [job] = Job.objects.filter(kind=JobKind.WEBHOOK)
    assert job.status == JobStatus.SUCCEEDED
    assert MitigationPlan.objects.get().status == workflow.PROPOSED


def test_the_background_queue_is_bounded_and_drains():
    pool = background.BackgroundPool(workers=1, capacity=1)
    release, ran = threading.Event(), []
    assert pool.submit(release.wait, 5)  # occupies the only thread
    deadline = time.monotonic() + 5
    while pool._queue.qsize() and time.monotonic() < deadline:  # until the thread picked it up
        time.sleep(0.01)
    assert pool.submit(ran.append, "queued")  # fills the queue
    assert not pool.submit(ran.append, "refused")  # full: refused, not buffered
    assert not pool.drain(timeout=0.05)
    release.set()
    assert pool.drain(timeout=5)
    assert ran == ["queued"]


def test_a_failing_job_does_not_stop_its_thread():
    pool = background.BackgroundPool(workers=1, capacity=4)
    ran: list[str] = []
    assert pool.submit(lambda: 1 / 0)
    assert pool.submit(ran.append, "after")
    assert pool.drain(timeout=5)
    assert ran == ["after"]


@pytest.mark.django_db
def test_a_full_queue_fails_the_delivery_instead_of_running_it_in_the_request(
    owner,
    team_a,
    propose,
    risk_owner,
    in_process_tasks,
    local_receivers,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setattr(background.pool, "submit", lambda *args, **kwargs: False)
    with Receiver() as receiver:
        webhook_configure(actor=owner, team=team_a, url=receiver.url)
        plan = propose()
        with django_capture_on_commit_callbacks(execute=True):
            plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.select_related("job").get()
    assert (delivery.job.status, delivery.last_error) == (JobStatus.FAILED, "could not queue the delivery")
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.APPROVED


@pytest.mark.django_db
def test_the_settings_page_shows_outcomes_but_never_what_the_receiver_said(
    client_as,
    owner,
    team_a,
    propose,
    risk_owner,
    in_process_tasks,
    inline_background,
    local_receivers,
    django_capture_on_commit_callbacks,
):
    def deliver_to(url: str) -> None:
        TeamWebhook.objects.update_or_create(team=team_a, defaults={"url": url, "secret": "k" * 64})
        plan = propose()  # its own notification is not run: one delivery per call
        with django_capture_on_commit_callbacks(execute=True):
            plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)

    with Receiver(status=204) as fine:
        deliver_to(fine.url)
    with Receiver(status=500, reply=f"<h1>Internal error</h1><pre>{SECRET} db password</pre>".encode()) as broken:
        deliver_to(broken.url)
    with Banner(f"-ERR unknown command 'POST', {SECRET}\r\n".encode()) as redis:
        deliver_to(redis.url)  # an internal non-HTTP service answering on an allowed address
    TeamWebhook.objects.filter(team=team_a).update(url="https://10.0.0.5/")
    deliver_to("https://10.0.0.5/")

    page = client_as("owner").get(reverse("mitigations:webhook_edit", args=[team_a.slug])).content.decode()

    outcomes = [line.split(">", 1)[1].split("<", 1)[0] for line in page.split('data-testid="delivery-outcome"')[1:]]
    assert outcomes == [
        "failed (refused: This address is a private address; webhooks only go to public addresses.)",
        "failed (not an HTTP answer)",
        "failed (status 500)",
        "delivered",
    ]
    assert SECRET not in page
    stored: list[Any] = []
    for delivery in WebhookDelivery.objects.select_related("job"):
        stored += [delivery.last_error, delivery.job.error, str(delivery.job.result)]
    assert all(SECRET not in text for text in stored)
