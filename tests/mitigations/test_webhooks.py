"""Outbound webhooks against a real HTTP receiver on 127.0.0.1 (allow-listed, as an operator
would): signed deliveries, retries with a failed Job at the end, and decisions that succeed
whatever the receiver does."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core import mail

from mitigations import webhooks, workflow
from mitigations.models import MitigationPlan, WebhookDelivery
from mitigations.services.transitions import plan_transition
from mitigations.services.webhooks import MAX_ATTEMPTS, webhook_configure
from tests.mitigations.receivers import Receiver, closed_port_url
from workbench.choices import JobKind, JobStatus
from workbench.models import AuditEvent, Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def approve(
    propose, risk_owner, in_process_tasks, inline_background, local_receivers, django_capture_on_commit_callbacks
) -> Any:
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
    assert delivery.last_error == "connection refused"


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
    assert WebhookDelivery.objects.get(job=job).last_error == "timed out"
    assert elapsed < MAX_ATTEMPTS * 1.0  # every attempt was cut at the timeout


def test_no_webhook_no_job_but_an_email_to_the_proposer(approve, editor):
    approve()
    assert webhook_jobs() == []
    assert [m.to for m in mail.outbox] == [[editor.email]]
    assert "approved" in mail.outbox[0].subject and "Ship it." in mail.outbox[0].body


def test_a_proposal_emails_the_risk_owners_and_admins_but_not_the_proposer(
    propose, owner, risk_owner, editor, in_process_tasks, inline_background, django_capture_on_commit_callbacks
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


def test_only_admins_configure_the_webhook_and_the_secret_never_reaches_the_audit(owner, risk_owner, team_a, fake_dns):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        webhook_configure(actor=risk_owner, team=team_a, url="https://hooks.example.test/")
    hook = webhook_configure(actor=owner, team=team_a, url="https://hooks.example.test/")
    rotated = webhook_configure(actor=owner, team=team_a, url="https://hooks.example.test/", rotate_secret=True)
    assert rotated.secret != hook.secret and len(rotated.secret) == 64
    for event in AuditEvent.objects.filter(team=team_a, object_type="teamwebhook"):
        assert hook.secret not in json.dumps([event.before, event.after])
        assert rotated.secret not in json.dumps([event.before, event.after])


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.test/",
        "javascript:alert(1)",
        "not a url",
        "",
        "https://user:pass@hooks.example.test/",
        "https://hooks.example.test:99999/",
        "http://hooks.example.test/",  # plain http outside DEBUG
    ],
)
def test_webhook_urls_must_be_https_urls(owner, team_a, fake_dns, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        webhook_configure(actor=owner, team=team_a, url=url)
    assert "url" in info.value.message_dict


@pytest.mark.celery_worker
def test_with_a_broker_the_retries_wait_out_their_backoff(
    celery_worker, owner, team_a, propose, risk_owner, local_receivers, monkeypatch
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
