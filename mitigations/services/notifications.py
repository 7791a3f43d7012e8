"""Telling people about plan and acceptance events: an email and the team's webhook.

Services call ``notify_plan`` / ``notify_acceptance`` inside their transaction; the message is
composed then (from the state being committed) and handed over only after commit, through
``transaction.on_commit(robust=True)``. Sending runs in Celery tasks, and every failure on the
way (no broker, a mail server or receiver down) is logged or recorded in a Job, never raised
into the request: a notification can neither fail nor undo the decision it reports.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from mitigations import workflow
from workbench.background import enqueue
from workbench.models import Membership
from workbench.permissions import TeamCapability, roles_with

if TYPE_CHECKING:
    from mitigations.models import MitigationPlan, RiskAcceptance
    from workbench.services.common import Actor

logger = logging.getLogger(__name__)

EVENT_TEXT = {
    "proposed": "proposed",
    "reopened": "changed an approved plan, which needs a new decision:",
    workflow.APPROVED: "approved",
    workflow.REJECTED: "rejected",
    workflow.IMPLEMENTED: "reported as implemented",
    workflow.VERIFIED: "verified",
    workflow.WITHDRAWN: "withdrew",
    workflow.OBSOLETE: "retired as obsolete (every asset and flow in its scope was deleted)",
}


SUBJECT_MAX = 200


def clean_subject(text: str) -> str:
    """One line of plain text for an email subject, at most ``SUBJECT_MAX`` characters.

    Subjects quote names users typed (system, asset, finding target). A CR or LF in one makes
    Django refuse the header (``BadHeaderError``), so the email was silently lost, and a lax
    mail path could read it as extra headers. Control and format characters (bidirectional
    overrides included) and line or paragraph separators become spaces; runs of whitespace one.
    """
    kept = (
        " " if unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp") else ch for ch in text
    )
    return " ".join("".join(kept).split())[:SUBJECT_MAX]


def _name(actor: Actor | None) -> str:
    return actor.get_username() if actor is not None and actor.is_authenticated else "system"


def _emails(team_id: int, *, roles: tuple[str, ...] = (), user_ids: tuple[int | None, ...] = ()) -> set[str]:
    members = Membership.objects.filter(team_id=team_id).select_related("user")
    emails = set()
    for m in members:
        if ((roles and m.role in roles) or m.user_id in user_ids) and m.user.email:
            emails.add(m.user.email)
    return emails


def notify_plan(*, plan: MitigationPlan, event: str, actor: Actor | None, comment: str = "") -> None:
    """Queue the email and webhook for a plan event (``event``: "proposed", "reopened" or the new status)."""
    system = plan.system
    who = _name(actor)
    if event in ("proposed", "reopened", workflow.IMPLEMENTED):
        recipients = _emails(plan.team_id, roles=roles_with(TeamCapability.APPROVE))
    else:
        recipients = _emails(plan.team_id, user_ids=(plan.proposed_by_id, plan.owner_id))
    if actor is not None and actor.is_authenticated:
        recipients.discard(getattr(actor, "email", ""))
    url = plan.get_absolute_url()
    subject = clean_subject(f"[{system.name}] {plan.control.code} plan {event}")
    lines = [
        f'{who} {EVENT_TEXT.get(event, event)} the plan "{plan.control.code} {plan.control.name}" in {system.name}.',
        f"Status: {plan.status}, revision {plan.revision}.",
    ]
    if comment:
        lines.append(f"Comment: {comment}")
    lines.append(f"Open it at {url}")
    payload = {
        "event": f"plan.{event}",
        "team": plan.team.slug,
        "system": {"slug": system.slug, "name": system.name, "version": system.version},
        "actor": who,
        "occurred_at": timezone.now().isoformat(),
        "plan": {
            "id": plan.pk,
            "control": plan.control.code,
            "status": plan.status,
            "revision": plan.revision,
            "content_hash": plan.content_hash,
            "url": url,
        },
        "comment": comment,
    }
    _after_commit(plan.team_id, payload, sorted(recipients), subject, "\n".join(lines))


def notify_acceptance(*, acceptance: RiskAcceptance, event: str, actor: Actor | None) -> None:
    """Queue the email and webhook for an acceptance being created, revoked or expired."""
    finding = acceptance.finding
    who = _name(actor)
    recipients = _emails(
        acceptance.team_id, roles=roles_with(TeamCapability.ACCEPT_RISK), user_ids=(acceptance.accepted_by_id,)
    )
    if actor is not None and actor.is_authenticated:
        recipients.discard(getattr(actor, "email", ""))
    subject = clean_subject(
        f"[{acceptance.system.name}] risk acceptance {event}: {finding.template.code} on {finding.target_repr}"
    )
    body = (
        f"{who}: acceptance of {finding.template.code} on {finding.target_repr} is {event}.\n"
        f"Valid through {acceptance.expires_on.isoformat()}; finding status now {finding.status}.\n"
        f"Justification: {acceptance.justification}"
    )
    payload = {
        "event": f"acceptance.{event}",
        "team": acceptance.team.slug,
        "system": {"slug": acceptance.system.slug, "name": acceptance.system.name},
        "actor": who,
        "occurred_at": timezone.now().isoformat(),
        "acceptance": {
            "id": acceptance.pk,
            "finding": finding.pk,
            "threat": finding.template.code,
            "target": finding.target_repr,
            "expires_on": acceptance.expires_on.isoformat(),
            "status": acceptance.status,
        },
    }
    _after_commit(acceptance.team_id, payload, sorted(recipients), subject, body)


def _after_commit(team_id: int, payload: dict[str, Any], recipients: list[str], subject: str, body: str) -> None:
    transaction.on_commit(partial(dispatch, team_id, payload, recipients, subject, body), robust=True)


def dispatch(team_id: int, payload: dict[str, Any], recipients: list[str], subject: str, body: str) -> None:
    """Hand a committed event to the email and webhook tasks; log, never raise."""
    from mitigations.services.webhooks import webhook_enqueue

    if recipients:
        enqueue(
            "mitigations.send_notification_email",
            {"subject": subject, "body": body, "recipients": recipients},
            about=f"the notification email {subject!r}",
        )
    try:
        webhook_enqueue(team_id=team_id, payload=payload)
    except Exception:  # noqa: BLE001 - same: the event is committed whatever happens here
        logger.exception("could not queue the webhook for team %s", team_id)
