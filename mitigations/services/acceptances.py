"""Risk acceptance: a risk owner takes a finding's residual risk, for at most a year.

An accepted finding leaves the "open" counts but keeps its loss in every total (accepting a risk
does not make it smaller). Finding statuses change only through ``threats.services.finding_status``,
which takes the lock the recompute pipeline holds while it writes findings, so a recompute never
writes back a stale status (and the system version does not move: the model is unchanged).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mitigations import workflow
from mitigations.models import AcceptanceStatus, RiskAcceptance
from mitigations.services.notifications import notify_acceptance
from threats.models import Finding, FindingStatus
from threats.services.finding_status import finding_lock
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_record
from workbench.services.common import Actor

MAX_DAYS = 365
MIN_JUSTIFICATION = 10


def _after(acceptance: RiskAcceptance) -> dict[str, object]:
    finding = acceptance.finding
    return {
        "finding": finding.pk,
        "threat": finding.template.code,
        "target": finding.target_repr,
        "status": acceptance.status,
        "expires_on": acceptance.expires_on.isoformat(),
        "finding_status": finding.status,
    }


def clean_expiry(expires_on: date | None, today: date | None = None) -> date:
    today = today or timezone.localdate()
    if expires_on is None:
        raise ValidationError({"expires_on": "Give an expiry date."})
    if expires_on < today:
        raise ValidationError({"expires_on": "The expiry date cannot be in the past."})
    if expires_on > today + timedelta(days=MAX_DAYS):
        raise ValidationError({"expires_on": f"An acceptance lasts at most {MAX_DAYS} days."})
    return expires_on


def _words(text: str) -> tuple[str, ...]:
    """A justification as compared for reuse: its words, whatever the case, spacing or punctuation."""
    return tuple(re.findall(r"\w+", text.casefold()))


def _previous(finding: Finding, text: str) -> RiskAcceptance | None:
    """The finding's latest ended acceptance (the one a new acceptance renews), or None.

    A renewal is a new decision: its justification must say something the earlier ones of this
    finding did not (a revoked acceptance was withdrawn for a reason; an expired one was given
    for a period that is over), so re-sending the old text is refused.
    """
    earlier = list(RiskAcceptance.objects.filter(finding=finding).order_by("-created_at", "-pk"))
    if any(_words(old.justification) == _words(text) for old in earlier):
        raise ValidationError(
            {
                "justification": "This finding was accepted before with this justification. A renewal needs a new one: "
                "say why the risk is tolerable now."
            }
        )
    return earlier[0] if earlier else None


@transaction.atomic
def acceptance_create(*, actor: Actor, finding: Finding, justification: str, expires_on: date | None) -> RiskAcceptance:
    """Accept an open finding until ``expires_on`` (inclusive, at most a year ahead).

    Accepting a finding that was accepted before (the acceptance was revoked or expired) is a
    renewal: it links the earlier acceptance (``renews``), is audited as ``renew_acceptance``
    and needs a justification unlike every earlier one of the finding. Raises PermissionDenied
    unless the actor is a risk owner or admin of the team, ValidationError for a short or reused
    justification or a bad date, and ``workflow.InvalidTransition`` (a 409) when the finding is
    not open (already accepted, or no longer applicable).
    """
    require(actor, finding.team, TeamCapability.ACCEPT_RISK)
    text = (justification or "").strip()
    if len(text) < MIN_JUSTIFICATION or len(text) > 5000:
        raise ValidationError({"justification": f"Explain the decision in {MIN_JUSTIFICATION} to 5000 characters."})
    expires_on = clean_expiry(expires_on)
    locked = finding_lock(system_id=finding.system_id, finding_id=finding.pk)
    current = locked.finding
    if current.status != FindingStatus.OPEN:
        raise workflow.InvalidTransition(
            f"Only an open finding can be accepted; this one is {current.status}.", current.status
        )
    previous = _previous(current, text)
    locked.set_status(FindingStatus.ACCEPTED)
    acceptance = RiskAcceptance.objects.create(
        team_id=current.team_id,
        system=current.system,
        finding=current,
        accepted_by_id=actor.pk,
        accepted_by_name=actor.get_username(),
        justification=text,
        expires_on=expires_on,
        renews=previous,
    )
    after: dict[str, object] = {**_after(acceptance), "justification": text}
    if previous is not None:
        after.update(renews=previous.pk, renews_status=previous.status)
    audit_record(
        team=current.system.team,
        actor=actor,
        verb="accept_risk" if previous is None else "renew_acceptance",
        object_type="riskacceptance",
        object_id=acceptance.pk,
        object_repr=f"{current.template.code} on {current.target_repr}",
        after=after,
        system=current.system,
    )
    notify_acceptance(acceptance=acceptance, event="created" if previous is None else "renewed", actor=actor)
    return acceptance


def _end(acceptance_id: int, *, status: str, actor: Actor | None, reason: str, verb: str) -> RiskAcceptance | None:
    """End an active acceptance (locked and re-checked) and reopen its finding if it is accepted."""
    acceptance = (
        RiskAcceptance.objects.select_for_update(of=("self",))
        .select_related("finding__template", "system__team")
        .filter(pk=acceptance_id)
        .first()
    )
    if acceptance is None or acceptance.status != AcceptanceStatus.ACTIVE:
        return None
    locked = finding_lock(system_id=acceptance.system_id, finding_id=acceptance.finding_id)
    if locked.finding.status == FindingStatus.ACCEPTED:
        locked.set_status(FindingStatus.OPEN)
    acceptance.finding.status = locked.finding.status
    acceptance.status = status
    acceptance.ended_at = timezone.now()
    acceptance.ended_by_id = actor.pk if actor is not None and actor.is_authenticated else None
    acceptance.end_reason = reason[:200]
    acceptance.save(update_fields=["status", "ended_at", "ended_by", "end_reason"])
    audit_record(
        team=acceptance.system.team,
        actor=actor,
        verb=verb,
        object_type="riskacceptance",
        object_id=acceptance.pk,
        object_repr=f"{acceptance.finding.template.code} on {acceptance.finding.target_repr}",
        before={"status": AcceptanceStatus.ACTIVE},
        after={**_after(acceptance), "reason": acceptance.end_reason},
        system=acceptance.system,
    )
    notify_acceptance(acceptance=acceptance, event=status, actor=actor)
    return acceptance


@transaction.atomic
def acceptance_revoke(*, actor: Actor, acceptance: RiskAcceptance, reason: str = "") -> RiskAcceptance:
    """A risk owner or admin ends an acceptance early; the finding is open again."""
    require(actor, acceptance.team, TeamCapability.ACCEPT_RISK)
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError({"reason": "At most 200 characters."})
    ended = _end(
        acceptance.pk,
        status=AcceptanceStatus.REVOKED,
        actor=actor,
        reason=reason or "revoked",
        verb="revoke_acceptance",
    )
    if ended is None:
        current = RiskAcceptance.objects.filter(pk=acceptance.pk).values_list("status", flat=True).first()
        raise workflow.InvalidTransition("This acceptance is no longer active.", current or "deleted")
    return ended


def acceptances_expire(*, today: date | None = None) -> int:
    """End every active acceptance whose expiry date has passed; one transaction each.

    The audit event names no actor ("system"); the finding is reopened unless it stopped
    applying meanwhile.
    """
    today = today or timezone.localdate()
    due = list(
        RiskAcceptance.objects.filter(status=AcceptanceStatus.ACTIVE, expires_on__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expired = 0
    for acceptance_id in due:
        with transaction.atomic():
            ended = _end(
                acceptance_id,
                status=AcceptanceStatus.EXPIRED,
                actor=None,
                reason=f"expired (valid through the day before {today.isoformat()})",
                verb="expire_acceptance",
            )
        expired += ended is not None
    return expired
