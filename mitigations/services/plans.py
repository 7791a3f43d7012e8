"""Proposing, editing, deleting and commenting on mitigation plans.

Every write checks the actor's role, validates, saves, bumps ``System.version`` (plans feed the
"projected" and "current" risk views, so the model changed) and appends an audit event, in one
transaction. Editing an approved plan's content sends it back to proposed (the approval was for
other content); the decision services live in ``transitions``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from mitigations import workflow
from mitigations.models import MitigationPlan, PlanComment
from mitigations.services.notifications import notify_plan
from threats.models import Control, Finding, FindingStatus
from workbench.models import Asset, Membership, System
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_instance
from workbench.services.common import Actor, bump_version, diff, snapshot

PLAN_FIELDS = ("description", "owner", "due_date", "cost_one_off", "cost_yearly", "evidence_links")
MAX_LINKS = 20
MAX_COST = Decimal("1e12")
_url = URLValidator(schemes=["http", "https"])


def clean_evidence_links(links: Iterable[Any]) -> list[str]:
    """Absolute http(s) URLs only (no javascript: or data: links reach a page), de-duplicated."""
    if isinstance(links, str | bytes) or not isinstance(links, Iterable):
        raise ValidationError({"evidence_links": "Give a list of URLs."})
    result: list[str] = []
    for raw in links:
        if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > 500:
            raise ValidationError({"evidence_links": "Each link must be a URL of at most 500 characters."})
        link = raw.strip()
        try:
            _url(link)
        except ValidationError as exc:
            raise ValidationError({"evidence_links": f"Not an http(s) URL: {link[:80]}"}) from exc
        if link not in result:
            result.append(link)
    if len(result) > MAX_LINKS:
        raise ValidationError({"evidence_links": f"At most {MAX_LINKS} links."})
    return result


def _cost(name: str, value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({name: "Enter an amount."}) from exc
    if not amount.is_finite() or amount < 0 or amount >= MAX_COST:
        raise ValidationError({name: "Enter an amount between 0 and 999,999,999,999."})
    return amount.quantize(Decimal("0.01"))


def _midpoint(low: Decimal, high: Decimal) -> Decimal:
    return ((low + high) / 2).quantize(Decimal("0.01"))


def content_hash(plan: MitigationPlan, finding_ids: Iterable[int], asset_ids: Iterable[int]) -> str:
    """SHA-256 of everything a risk owner signs off: control, scope, owner, dates, money, text."""
    body = {
        "system": plan.system_id,
        "control": plan.control.code,
        "system_wide": plan.system_wide,
        "findings": sorted(finding_ids),
        "assets": sorted(asset_ids),
        "owner": plan.owner_id,
        "due_date": plan.due_date.isoformat() if plan.due_date else None,
        "cost_one_off": str(Decimal(plan.cost_one_off).quantize(Decimal("0.01"))),
        "cost_yearly": str(Decimal(plan.cost_yearly).quantize(Decimal("0.01"))),
        "description": plan.description,
        "evidence_links": list(plan.evidence_links),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _scope(system: System, findings: Sequence[Finding], assets: Sequence[Asset]) -> None:
    if any(f.system_id != system.pk for f in findings):
        raise ValidationError({"findings": "Every finding must belong to this system."})
    if any(f.status == FindingStatus.NOT_APPLICABLE for f in findings):
        raise ValidationError({"findings": "A finding that no longer applies cannot be planned for."})
    if any(a.system_id != system.pk for a in assets):
        raise ValidationError({"assets": "Every asset must belong to this system."})


def _check_owner(system: System, owner: Any) -> None:
    if owner is not None and not Membership.objects.filter(team_id=system.team_id, user_id=owner.pk).exists():
        raise ValidationError({"owner": "The owner must be a member of this team."})


def _check_due(due: date | None, previous: date | None = None) -> None:
    if due is not None and due != previous and due < timezone.localdate():
        raise ValidationError({"due_date": "The due date cannot be in the past."})


def _plan_snapshot(plan: MitigationPlan) -> dict[str, Any]:
    data = snapshot(plan)
    data["control"] = plan.control.code
    return data


@transaction.atomic
def plan_create(
    *,
    actor: Actor,
    system: System,
    control: Control,
    findings: Sequence[Finding] = (),
    assets: Sequence[Asset] = (),
    owner: Any = None,
    due_date: date | None = None,
    cost_one_off: Any = None,
    cost_yearly: Any = None,
    description: str = "",
    evidence_links: Iterable[Any] = (),
) -> MitigationPlan:
    """Propose ``control`` for ``system``, scoped to findings and/or assets (neither: system-wide).

    The owner defaults to the proposer and the costs to the middle of the library's ranges, so a
    one-click "Propose" (control + findings + assets) files a complete plan. Writes a "propose"
    audit event, bumps the system version and notifies the team's risk owners after commit.
    """
    require(actor, system.team, TeamCapability.PROPOSE)
    if not control.active:
        raise ValidationError({"control": "This control is no longer in the library."})
    findings, assets = list(findings), list(assets)
    _scope(system, findings, assets)
    owner = owner if owner is not None else actor
    _check_owner(system, owner)
    _check_due(due_date)
    plan = MitigationPlan(
        team_id=system.team_id,
        system=system,
        control=control,
        system_wide=not findings and not assets,
        owner=owner,
        due_date=due_date,
        cost_one_off=_cost(
            "cost_one_off",
            _midpoint(control.cost_one_off_min, control.cost_one_off_max) if cost_one_off is None else cost_one_off,
        ),
        cost_yearly=_cost(
            "cost_yearly",
            _midpoint(control.cost_yearly_min, control.cost_yearly_max) if cost_yearly is None else cost_yearly,
        ),
        description=(description or "").strip(),
        evidence_links=clean_evidence_links(evidence_links),
        status=workflow.PROPOSED,
        proposed_by_id=actor.pk if actor.is_authenticated else None,
        authors=[actor.pk] if actor.is_authenticated else [],
        status_changed_at=timezone.now(),
    )
    plan.content_hash = content_hash(plan, [f.pk for f in findings], [a.pk for a in assets])
    plan.full_clean()
    plan.save()
    plan.findings.set(findings)
    plan.assets.set(assets)
    bump_version(system)
    audit_instance(actor=actor, verb="propose", instance=plan, system=system, after=_plan_snapshot(plan))
    notify_plan(plan=plan, event="proposed", actor=actor)
    return plan


def _locked(plan: MitigationPlan) -> MitigationPlan:
    """The current row under a lock: decisions and edits on one plan are serialised."""
    return (
        MitigationPlan.objects.select_for_update(of=("self",)).select_related("system__team", "control").get(pk=plan.pk)
    )


@transaction.atomic
def plan_update(
    *,
    actor: Actor,
    plan: MitigationPlan,
    findings: Sequence[Finding] | None = None,
    assets: Sequence[Asset] | None = None,
    **fields: Any,
) -> MitigationPlan:
    """Change a proposed or approved plan; a changed approved plan goes back to proposed.

    Raises ``workflow.InvalidTransition`` for a plan past approval (implemented, verified,
    rejected, withdrawn, obsolete): what was signed off and done stays as it was. A change of
    content bumps ``revision`` (a decision on the old revision is then refused as stale) and
    adds the actor to ``authors``, who may never decide on the plan.
    """
    require(actor, plan.team, TeamCapability.PROPOSE)
    unknown = sorted(set(fields) - set(PLAN_FIELDS))
    if unknown:
        raise ValidationError({key: "Unknown field." for key in unknown})
    current = _locked(plan)
    workflow.status_after_edit(current.status, content_changed=False)  # refuses non-editable states
    system = current.system
    before = _plan_snapshot(current)
    finding_list = list(findings) if findings is not None else list(current.findings.all())
    asset_list = list(assets) if assets is not None else list(current.assets.all())
    _scope(system, finding_list, asset_list)
    if "owner" in fields:
        _check_owner(system, fields["owner"])
    if "due_date" in fields:
        _check_due(fields["due_date"], current.due_date)
    for name in ("cost_one_off", "cost_yearly"):
        if name in fields:
            fields[name] = _cost(name, fields[name])
    if "evidence_links" in fields:
        fields["evidence_links"] = clean_evidence_links(fields["evidence_links"])
    if "description" in fields:
        fields["description"] = (fields["description"] or "").strip()
    for key, value in fields.items():
        setattr(current, key, value)
    current.system_wide = not finding_list and not asset_list
    new_hash = content_hash(current, [f.pk for f in finding_list], [a.pk for a in asset_list])
    if new_hash == current.content_hash:
        return current
    current.status = workflow.status_after_edit(current.status, content_changed=True)
    if current.status != before["status"]:
        current.status_changed_at = timezone.now()
    current.content_hash = new_hash
    current.revision += 1
    current.edited_by_id = actor.pk if actor.is_authenticated else None
    if actor.is_authenticated and actor.pk not in current.authors:
        current.authors = [*current.authors, actor.pk]  # four eyes covers every revision's author
    current.full_clean()
    current.save()
    current.findings.set(finding_list)
    current.assets.set(asset_list)
    bump_version(system)
    old, new = diff(before, _plan_snapshot(current))
    audit_instance(actor=actor, verb="update", instance=current, system=system, before=old, after=new)
    if before["status"] == workflow.APPROVED:
        notify_plan(plan=current, event="reopened", actor=actor)
    return current


@transaction.atomic
def plan_delete(*, actor: Actor, plan: MitigationPlan) -> None:
    """Delete a plan nobody has decided on yet (proposed or withdrawn, no approval rows).

    A plan with a decision is part of the record: withdraw it instead.
    """
    require(actor, plan.team, TeamCapability.PROPOSE)
    current = _locked(plan)
    if current.status not in (workflow.PROPOSED, workflow.WITHDRAWN) or current.approvals.exists():
        raise workflow.InvalidTransition("A plan with a decision on record cannot be deleted.", current.status)
    system, pk, label = current.system, current.pk, str(current)
    before = _plan_snapshot(current)
    current.delete()
    bump_version(system)
    audit_instance(actor=actor, verb="delete", instance=current, system=system, key=pk, label=label, before=before)


@transaction.atomic
def plan_comment(*, actor: Actor, plan: MitigationPlan, body: str) -> PlanComment:
    """Any editor, risk owner or admin of the team may comment; viewers read."""
    require(actor, plan.team, TeamCapability.COMMENT, "Viewers cannot comment.")
    body = (body or "").strip()
    if not body or len(body) > 2000:
        raise ValidationError({"body": "Write a comment of 1 to 2000 characters."})
    comment = PlanComment.objects.create(
        team_id=plan.team_id, plan=plan, author_id=actor.pk, author_name=actor.get_username(), body=body
    )
    audit_instance(
        actor=actor, verb="comment", instance=plan, system=plan.system, team=plan.team, after={"comment": body}
    )
    return comment
