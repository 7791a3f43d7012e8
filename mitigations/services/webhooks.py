"""A team's webhook: configuring it, queueing deliveries (one Job each) and recording attempts.

Attempt bookkeeping lives on the ``WebhookDelivery`` row, not in the task's retry counter, so a
redelivered message neither sends a finished delivery again nor gets extra attempts. The URL is
checked at save and before every attempt (``mitigations.webhook_targets``). No delivery runs in
the request that caused it: with a broker the Celery worker sends it; without one (the embedded
default, where Celery runs tasks in the caller) it goes to ``workbench.background``'s threads.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from mitigations import webhook_targets, webhooks
from mitigations.models import TeamWebhook, WebhookDelivery
from workbench.background import JobRun, enqueue, problem
from workbench.choices import JobKind, JobStatus
from workbench.models import Team
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_instance
from workbench.services.common import Actor

MAX_ATTEMPTS = 4  # the first try and three retries
BACKOFF_SECONDS = 5  # 5 s, 10 s, 20 s between attempts (plus jitter from the task)


def webhook_configure(
    *, actor: Actor, team: Team, url: str, active: bool = True, rotate_secret: bool = False
) -> TeamWebhook:
    """Create or change the team's webhook (admins only); a new webhook gets a fresh secret.

    Raises ValidationError on ``url`` for anything ``webhook_targets.check_url`` refuses (not
    https, an internal or metadata address, a name that does not resolve). The check resolves
    the host, so it runs before the transaction: a slow DNS answer holds no lock. The audit
    event records the URL and state, never the secret.
    """
    require(actor, team, TeamCapability.ADMINISTER_TEAM)
    url = (url or "").strip()
    try:
        webhook_targets.check_url(url)
    except webhook_targets.TargetRefused as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return _configure(actor=actor, team=team, url=url, active=active, rotate_secret=rotate_secret)


@transaction.atomic
def _configure(*, actor: Actor, team: Team, url: str, active: bool, rotate_secret: bool) -> TeamWebhook:
    require(actor, team, TeamCapability.ADMINISTER_TEAM)
    hook = TeamWebhook.objects.select_for_update().filter(team=team).first()
    creating = hook is None
    before = None if hook is None else {"url": hook.url, "active": hook.active}
    if hook is None:
        hook = TeamWebhook(team=team, secret=secrets.token_hex(32))
    elif rotate_secret:
        hook.secret = secrets.token_hex(32)
    hook.url = url
    hook.active = bool(active)
    hook.full_clean()
    hook.save()
    after = {"url": hook.url, "active": hook.active}
    if rotate_secret and not creating:
        after["secret_rotated"] = True
    if after != before:
        audit_instance(
            actor=actor,
            verb="create" if creating else "update",
            instance=hook,
            team=team,
            label=f"webhook of {team.slug}",
            before=before,
            after=after,
        )
    return hook


@transaction.atomic
def webhook_remove(*, actor: Actor, team: Team) -> None:
    require(actor, team, TeamCapability.ADMINISTER_TEAM)
    hook = TeamWebhook.objects.filter(team=team).first()
    if hook is None:
        return
    before = {"url": hook.url, "active": hook.active}
    audit_instance(actor=actor, verb="delete", instance=hook, team=team, label=f"webhook of {team.slug}", before=before)
    hook.delete()


def webhook_enqueue(*, team_id: int, payload: dict[str, Any]) -> WebhookDelivery | None:
    """Record a delivery (Job + signed body) for an active webhook and queue its task.

    Called after the event committed. A broker failure fails the Job at once (visible to the
    team) instead of leaving it queued forever. No broker (the embedded mode): Celery would run
    the task right here, inside the request (a receiver that answers in 20 s would hold the
    request 20 s), so it goes to a background thread instead (``off_thread``).
    """
    hook = TeamWebhook.objects.filter(team_id=team_id, active=True).first()
    if hook is None:
        return None
    with transaction.atomic():
        job = JobRun.create(team=hook.team, kind=JobKind.WEBHOOK).job
        body = json.dumps({"delivery": job.pk, **payload}, sort_keys=True, separators=(",", ":"))
        delivery = WebhookDelivery.objects.create(
            team_id=team_id, job=job, url=hook.url, event=str(payload.get("event", "")), body=body
        )

    def not_queued(exc: Exception) -> None:
        _fail(delivery, "could not queue the delivery", f"Could not queue the delivery: {problem(exc)}")

    enqueue(
        "mitigations.deliver_webhook",
        {"delivery_id": delivery.pk},
        about=f"webhook delivery {delivery.pk}",
        on_failure=not_queued,
        off_thread=True,
    )
    return delivery


def _fail(delivery: WebhookDelivery, reason: str, error: str) -> None:
    delivery.last_error = reason
    delivery.save(update_fields=["attempts", "last_status", "last_error"])
    JobRun(delivery.job).fail(error)


def webhook_attempt(*, delivery_id: int, task_id: str = "") -> str:
    """Make one delivery attempt. Returns "delivered", "retry", "failed" or "done" (nothing to do).

    The secret is read at send time, so rotating it applies to pending retries too.
    """
    delivery = WebhookDelivery.objects.select_related("job").filter(pk=delivery_id).first()
    if delivery is None or delivery.job.is_terminal:
        return "done"
    job = delivery.job
    run = JobRun(job)
    if run.queued:  # the first attempt; a retry continues the same running Job
        run.start(task_id=task_id)
    hook = TeamWebhook.objects.filter(team_id=delivery.team_id).first()
    if hook is None or not hook.active:
        _fail(delivery, "webhook removed or disabled", "The webhook was removed or disabled before delivery.")
        return "failed"
    delivery.attempts += 1
    try:
        outcome = webhooks.post(
            url=delivery.url, body=delivery.body.encode(), secret=hook.secret, event=delivery.event, delivery_id=job.pk
        )
    except webhooks.DeliveryFailed as exc:
        # str(exc) is one of the transport's own reasons, never text from the receiver.
        delivery.last_status, delivery.last_error = exc.status, str(exc)[:200]
        delivery.save(update_fields=["attempts", "last_status", "last_error"])
        if delivery.attempts < MAX_ATTEMPTS and not exc.permanent:
            return "retry"
        run.fail(
            f"Gave up after {delivery.attempts} attempt{'s' if delivery.attempts > 1 else ''}: {exc}",
            result={"attempts": delivery.attempts, "last_status": exc.status},
        )
        return "failed"
    delivery.last_status, delivery.last_error = outcome.status, ""
    delivery.save(update_fields=["attempts", "last_status", "last_error"])
    run.finish({"attempts": delivery.attempts, "status": outcome.status, "event": delivery.event})
    return "delivered"


def delivery_outcome(delivery: WebhookDelivery, job_status: str) -> str:
    """What the settings page says about a delivery: "delivered", "failed (status 500)",
    "failed (timed out)", or that it is pending. Built from the status code and our own reason,
    so no part of a receiver's answer reaches the page."""
    if job_status == JobStatus.SUCCEEDED:
        return "delivered"
    detail = f"status {delivery.last_status}" if delivery.last_status else delivery.last_error
    if job_status == JobStatus.FAILED:
        return f"failed ({detail or 'unknown reason'})"
    if delivery.attempts:
        return f"retrying (attempt {delivery.attempts}: {detail})"
    return "pending"


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait before retry number ``attempts`` (1, 2, 3): doubling from BACKOFF_SECONDS."""
    return float(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0))
