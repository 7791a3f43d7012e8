"""Outbound webhooks against a real HTTP receiver on 127.0.0.1: signed deliveries, retries with
a failed Job at the end, and decisions that succeed whatever the receiver does."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail

from mitigations import webhooks, workflow
from mitigations.models import MitigationPlan, WebhookDelivery
from mitigations.services.transitions import plan_transition
from mitigations.services.webhooks import MAX_ATTEMPTS, webhook_configure
from workbench.choices import JobKind, JobStatus
from workbench.models import AuditEvent, Job

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records every POST and answers ``status`` after ``delay`` seconds."""

    def __init__(self, status: int = 204, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/workbench"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def closed_port_url() -> str:
    """A URL on which nothing listens (the port was free a moment ago): connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/down"


@pytest.fixture
def in_process_tasks() -> Iterator[None]:
    """Run Celery tasks in-process here even where a broker is configured (CI)."""
    from workbench.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def approve(propose, risk_owner, in_process_tasks, django_capture_on_commit_callbacks) -> Any:
    """``approve()``: propose, then approve as the risk owner, running the after-commit work."""

    def _approve() -> MitigationPlan:
        plan = propose()
        with django_capture_on_commit_callbacks(execute=True):
            return plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE, comment="Ship it.")

    return _approve


def webhook_jobs() -> list[Job]:
    return list(Job.objects.filter(kind=JobKind.WEBHOOK).order_by("pk"))


def test_delivery_reaches_the_receiver_with_a_valid_signature(owner, team_a, approve):
    with Receiver() as receiver:
        hook = webhook_configure(actor=owner, team=team_a, url=receiver.url)
        plan = approve()

    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert webhooks.verify_signature(hook.secret, body, headers[webhooks.SIGNATURE_HEADER])
    assert not webhooks.verify_signature("another secret", body, headers[webhooks.SIGNATURE_HEADER])
    payload = json.loads(body)
    assert (payload["event"], payload["plan"]["id"], payload["plan"]["status"], payload["actor"]) == (
        "plan.approved",
        plan.pk,
        "approved",
        "rita",
    )
    assert payload["plan"]["content_hash"] == plan.content_hash
    assert headers[webhooks.EVENT_HEADER] == "plan.approved"
    [job] = webhook_jobs()
    assert (job.status, job.result["attempts"], job.result["status"]) == (JobStatus.SUCCEEDED, 1, 204)
    assert headers[webhooks.DELIVERY_HEADER] == str(job.pk) == str(payload["delivery"])


def test_a_receiver_that_is_down_gets_retries_then_a_failed_job_and_the_approval_stands(owner, team_a, approve):
    webhook_configure(actor=owner, team=team_a, url=closed_port_url())

    plan = approve()

    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.APPROVED
    assert AuditEvent.objects.filter(team=team_a, verb="approve", object_id=str(plan.pk)).count() == 1
    [job] = webhook_jobs()
    delivery = WebhookDelivery.objects.get(job=job)
    assert job.status == JobStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS == 4
    assert f"Gave up after {MAX_ATTEMPTS} attempts" in job.error
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error


@pytest.mark.parametrize("status", [500, 404, 302])
def test_error_answers_and_redirects_are_retried_then_failed(owner, team_a, approve, status):
    with Receiver(status=status) as receiver:
        webhook_configure(actor=owner, team=team_a, url=receiver.url)
        plan = approve()

    assert len(receiver.requests) == MAX_ATTEMPTS
    bodies = {body for _, body in receiver.requests}
    assert len(bodies) == 1  # every retry sends the same signed bytes
    [job] = webhook_jobs()
    assert job.status == JobStatus.FAILED
    assert WebhookDelivery.objects.get(job=job).last_status == status
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.APPROVED


def test_a_slow_receiver_times_out(owner, team_a, approve, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.2)
    with Receiver(delay=1.0) as receiver:
        webhook_configure(actor=owner, team=team_a, url=receiver.url)
        started = time.monotonic()
        approve()
        elapsed = time.monotonic() - started

    [job] = webhook_jobs()
    assert job.status == JobStatus.FAILED
    assert "timed out" in WebhookDelivery.objects.get(job=job).last_error.lower()
    assert elapsed < MAX_ATTEMPTS * 1.0  # every attempt was cut at the timeout


def test_no_webhook_no_job_but_an_email_to_the_proposer(approve, editor):
    approve()
    assert webhook_jobs() == []
    assert [m.to for m in mail.outbox] == [[editor.email]]
    assert "approved" in mail.outbox[0].subject and "Ship it." in mail.outbox[0].body


def test_a_proposal_emails_the_risk_owners_and_admins_but_not_the_proposer(
    propose, owner, risk_owner, editor, in_process_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        propose()
    [message] = mail.outbox
    assert sorted(message.to) == sorted([owner.email, risk_owner.email])


def test_a_disabled_webhook_sends_nothing(owner, team_a, approve):
    with Receiver() as receiver:
        webhook_configure(actor=owner, team=team_a, url=receiver.url, active=False)
        approve()
    assert receiver.requests == []
    assert webhook_jobs() == []


def test_only_admins_configure_the_webhook_and_the_secret_never_reaches_the_audit(owner, risk_owner, team_a):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        webhook_configure(actor=risk_owner, team=team_a, url="https://hooks.example.test/")
    hook = webhook_configure(actor=owner, team=team_a, url="https://hooks.example.test/")
    rotated = webhook_configure(actor=owner, team=team_a, url="https://hooks.example.test/", rotate_secret=True)
    assert rotated.secret != hook.secret and len(rotated.secret) == 64
    for event in AuditEvent.objects.filter(team=team_a, object_type="teamwebhook"):
        assert hook.secret not in json.dumps([event.before, event.after])
        assert rotated.secret not in json.dumps([event.before, event.after])


@pytest.mark.parametrize("url", ["ftp://hooks.example.test/", "javascript:alert(1)", "not a url", ""])
def test_webhook_urls_must_be_http(owner, team_a, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        webhook_configure(actor=owner, team=team_a, url=url)


@pytest.mark.celery_worker
def test_with_a_broker_the_retries_wait_out_their_backoff(
    celery_worker, owner, team_a, propose, risk_owner, monkeypatch
):
    """Against Redis and a real worker (CI): the request returns at once, the worker retries with
    growing delays and finally fails the Job."""
    from mitigations.services import webhooks as webhook_services

    monkeypatch.setattr(webhook_services, "BACKOFF_SECONDS", 0.2)
    webhook_configure(actor=owner, team=team_a, url=closed_port_url())
    plan = propose()

    started = time.monotonic()
    plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)
    assert time.monotonic() - started < 2.0  # nothing waited for the receiver

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = [
            j for j in webhook_jobs() if j.is_terminal and WebhookDelivery.objects.get(job=j).event == "plan.approved"
        ]
        if jobs:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the webhook job never finished")
    [job] = jobs
    assert job.status == JobStatus.FAILED
    assert WebhookDelivery.objects.get(job=job).attempts == MAX_ATTEMPTS
    assert (job.finished_at - job.started_at).total_seconds() >= 0.2 + 0.4 + 0.8  # the backoff
    assert MitigationPlan.objects.get(pk=plan.pk).status == workflow.APPROVED
