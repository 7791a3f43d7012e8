"""Workflow transitions of a plan: approve, reject, implement, verify, withdraw.

One function, ``plan_transition``, runs every action of ``mitigations.workflow.TABLE``:

1. lock the plan row (``select_for_update``), so concurrent decisions queue up behind each other;
2. ask the pure table what the action does for this actor and state (403 / 409 / target state);
3. refuse a decision on a revision other than the current one (``StaleRevision``, a 409 naming
   the current revision): a risk owner approves what they read, not what it became meanwhile;
4. move the status with a conditional UPDATE (``WHERE status = <seen> AND revision = <seen>``):
   even where row locks do not exist, exactly one of two racing requests changes the row;
5. record the decision (``Approval``, unique per plan revision), bump the system version so risk
   recomputes, append the audit event, and notify after commit (email, webhook) without ever
   letting a notification failure undo or fail the transition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from mitigations import workflow
from mitigations.models import Approval, Decision, MitigationPlan
from mitigations.services.notifications import notify_plan
from mitigations.services.plans import clean_evidence_links
from workbench.permissions import capabilities_of
from workbench.services.audit import audit_instance
from workbench.services.common import Actor, bump_version

MAX_COMMENT = 2000


def _comment(action: str, comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": f"At most {MAX_COMMENT} characters."})
    if action == workflow.REJECT and not comment:
        raise ValidationError({"comment": "Say why the plan is rejected."})
    return comment


def _stale(current: MitigationPlan, seen_revision: int) -> workflow.StaleRevision:
    return workflow.StaleRevision(
        f"The plan changed since revision {seen_revision}: it is now at revision {current.revision}."
        " Read it again before deciding.",
        current.status,
        current.revision,
        current.content_hash,
    )


@transaction.atomic
def plan_transition(
    *,
    actor: Actor,
    plan: MitigationPlan,
    action: str,
    comment: str = "",
    evidence_links: Iterable[Any] = (),
    revision: int | None = None,
) -> MitigationPlan:
    """Apply ``action`` to ``plan`` as ``actor`` and return the updated plan.

    ``revision`` is the revision the actor reviewed: the page and the API require it for approve
    and reject (and check it for the other actions when sent); a service caller that leaves it
    out decides on the revision of the ``plan`` instance it loaded. Raises
    PermissionDenied (role, or four eyes: no author of any revision decides, the implementer
    never verifies), ``workflow.InvalidTransition`` carrying the current state (the action does
    not leave it), ``workflow.StaleRevision`` (the content changed since that revision) or
    ValidationError (comment, evidence). Every check runs before the first write, so a refusal
    decides nothing. Side effects: an ``Approval`` row for approve/reject, a version bump, one
    audit event, notifications on commit.
    """
    current = (
        MitigationPlan.objects.select_for_update(of=("self",))
        .select_related("system__team", "control")
        .filter(pk=plan.pk)
        .first()
    )
    if current is None:
        raise workflow.InvalidTransition("The plan no longer exists.", "deleted")
    role = capabilities_of(actor, current.team).role
    user_id = actor.pk if actor.is_authenticated else None
    try:
        target = workflow.decide(action, current.facts, workflow.ActorFacts(user_id=user_id, role=role))
    except workflow.NotPermitted as exc:
        raise PermissionDenied(str(exc)) from exc
    seen_revision = plan.revision if revision is None and action in workflow.DECISIONS else revision
    if seen_revision is not None and seen_revision != current.revision:
        raise _stale(current, seen_revision)
    text = _comment(action, comment)
    links = before_links = list(current.evidence_links)
    if action in (workflow.IMPLEMENT, workflow.VERIFY):
        links = clean_evidence_links([*links, *clean_evidence_links(evidence_links)])
    if action == workflow.VERIFY and not links:
        raise ValidationError({"evidence_links": "Verification needs at least one evidence link."})

    now = timezone.now()
    changes: dict[str, Any] = {"status": target, "status_changed_at": now, "evidence_links": links}
    if action == workflow.IMPLEMENT:
        changes["implemented_by_id"] = user_id
    seen = current.status
    if MitigationPlan.objects.filter(pk=current.pk, status=seen, revision=current.revision).update(**changes) != 1:
        now_at = MitigationPlan.objects.get(pk=current.pk)
        if now_at.revision != current.revision:
            raise _stale(now_at, current.revision)
        raise workflow.InvalidTransition("The plan changed meanwhile.", now_at.status)
    if action in workflow.DECISIONS:
        try:
            with transaction.atomic():
                Approval.objects.create(
                    team_id=current.team_id,
                    plan=current,
                    actor_id=user_id,
                    actor_name=actor.get_username(),
                    decision=Decision.APPROVED if action == workflow.APPROVE else Decision.REJECTED,
                    comment=text,
                    revision=current.revision,
                    content_hash=current.content_hash,
                )
        except IntegrityError as exc:  # another decision on this revision won the race
            raise workflow.InvalidTransition("This revision was already decided.", seen) from exc
    for key, value in changes.items():
        setattr(current, key, value)
    bump_version(current.system)
    after: dict[str, Any] = {"status": target}
    if text:
        after["comment"] = text
    if action in workflow.DECISIONS:
        after.update(revision=current.revision, content_hash=current.content_hash)
    if links != before_links:
        after["evidence_links"] = links
    audit_instance(
        actor=actor,
        verb=action,
        instance=current,
        system=current.system,
        team=current.team,
        before={"status": seen},
        after=after,
    )
    notify_plan(plan=current, event=target, actor=actor, comment=text)
    return current
