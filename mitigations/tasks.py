"""Celery entry points of the mitigations app: load by id, call a service, return a small dict."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task
from django.core.mail import send_mail

from mitigations.services.acceptances import acceptances_expire
from mitigations.services.notifications import clean_subject
from mitigations.services.webhooks import backoff_seconds, webhook_attempt


@shared_task(name="mitigations.deliver_webhook", bind=True, soft_time_limit=60, time_limit=90, max_retries=10)
def deliver_webhook(self: Any, *, delivery_id: int) -> dict[str, Any]:
    """POST one signed webhook body; retry with exponential backoff and jitter, then fail its Job.

    Idempotency: the attempt count and outcome live on the delivery row and its Job; a finished
    delivery is never sent again, and a redelivered message continues the count. The task never
    raises past its last attempt, so an in-process run cannot fail the request that queued it.
    """
    outcome = webhook_attempt(delivery_id=delivery_id, task_id=self.request.id or "")
    # Run in-process (no broker: the embedded mode, on a ``workbench.background`` thread) there
    # is nobody to hold a delayed retry, so the attempts follow each other at once; with a
    # broker each retry waits out its backoff.
    while outcome == "retry" and self.request.is_eager:
        outcome = webhook_attempt(delivery_id=delivery_id, task_id=self.request.id or "")
    if outcome == "retry":
        delay = backoff_seconds(self.request.retries + 1)
        raise self.retry(countdown=delay + random.uniform(0, delay / 2))  # noqa: S311 - jitter, not crypto
    return {"delivery_id": delivery_id, "outcome": outcome}


@shared_task(name="mitigations.send_notification_email", soft_time_limit=30, time_limit=45)
def send_notification_email(*, subject: str, body: str, recipients: list[str]) -> dict[str, Any]:
    """Send one plain-text notification through Django's email backend (console by default).

    Idempotency: at most a duplicate email. Like every task it is acknowledged late (the setting
    CELERY_TASK_ACKS_LATE gives every task ``acks_late=True``): a worker that dies after sending
    and before acknowledging gets the message redelivered and the email goes out again, which is
    accepted; losing it is what late acknowledgement avoids.
    """
    sent = send_mail(clean_subject(subject), body, None, recipients, fail_silently=True)
    return {"sent": sent, "recipients": len(recipients)}


@shared_task(name="mitigations.expire_acceptances", soft_time_limit=120, time_limit=150)
def expire_acceptances() -> dict[str, Any]:
    """Daily: end acceptances past their expiry date and reopen their findings (audited).

    Idempotency: each acceptance is ended under a row lock with a status re-check, so two runs
    (or a redelivery) expire it once.
    """
    return {"expired": acceptances_expire()}
