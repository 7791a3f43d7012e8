"""Read use-cases of the mitigations app: plans (and the controls they put in force), the
approval inbox with each plan's risk effect, acceptances and the audit trail of a system."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mitigations import workflow
from mitigations.models import AcceptanceStatus, Approval, MitigationPlan, RiskAcceptance, ThreatControl
from threats.engine.controls import ControlsInForce, merge
from threats.models import Finding, FindingStatus, SystemRisk
from workbench.choices import JobKind
from workbench.models import AuditEvent, Job, System, Team
from workbench.services.common import Actor

PLAN_OBJECT = "mitigationplan"


def covered_assets(plan_ids: list[int]) -> dict[int, set[int]]:
    """Plan id -> asset ids it covers: its assets, its findings' assets and its flow findings' ends."""
    covered: dict[int, set[int]] = defaultdict(set)
    through_assets = MitigationPlan.assets.through.objects.filter(mitigationplan_id__in=plan_ids)
    for plan_id, asset_id in through_assets.values_list("mitigationplan_id", "asset_id"):
        covered[plan_id].add(asset_id)
    through_findings = MitigationPlan.findings.through.objects.filter(mitigationplan_id__in=plan_ids)
    rows = through_findings.values_list(
        "mitigationplan_id", "finding__asset_id", "finding__flow__source_id", "finding__flow__target_id"
    )
    for plan_id, *asset_ids in rows:
        covered[plan_id].update(a for a in asset_ids if a is not None)
    return covered


def plan_controls_for(*, system: System) -> tuple[ControlsInForce, ControlsInForce]:
    """Controls that plans put in force: (implemented or verified, approved or proposed).

    A plan scoped to findings covers each finding's target asset (for a flow: both of its ends,
    where such a control is deployed); a system-wide plan covers everything (None). A scoped
    plan whose targets were all deleted covers nothing. Three queries, whatever the plan count.
    """
    plans = list(
        MitigationPlan.objects.filter(
            system=system,
            status__in=[*workflow.CURRENT_STATES, *workflow.PROJECTED_STATES],
            control__active=True,
        ).values_list("pk", "status", "system_wide", "control__code")
    )
    covered = covered_assets([pk for pk, _, wide, _ in plans if not wide])
    views: dict[bool, list[ControlsInForce]] = {True: [], False: []}
    for pk, status, wide, code in plans:
        if wide:
            entry: frozenset[int] | None = None
        elif covered.get(pk):
            entry = frozenset(covered[pk])
        else:
            continue
        views[status in workflow.CURRENT_STATES].append({code: entry})
    return merge(*views[True]), merge(*views[False])


def plan_list(*, system: System, status: str = "") -> QuerySet[MitigationPlan]:
    qs = MitigationPlan.objects.filter(system=system).select_related("control", "owner", "proposed_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def plan_get(*, system: System, pk: int) -> MitigationPlan:
    """A plan of this (already visible) system, or 404."""
    qs = MitigationPlan.objects.select_related("control", "owner", "proposed_by", "edited_by", "system__team")
    return get_object_or_404(
        qs.prefetch_related(
            Prefetch("findings", queryset=Finding.objects.select_related("template")),
            "assets",
            Prefetch("approvals", queryset=Approval.objects.order_by("-created_at", "-pk")),
            "comments",
        ),
        system=system,
        pk=pk,
    )


def plan_author_names(*, plan: MitigationPlan) -> list[str]:
    """Usernames of everyone who wrote a revision of the plan, proposer first (one query)."""
    names = dict(get_user_model().objects.filter(pk__in=plan.authors or []).values_list("pk", "username"))
    return [names[author] for author in plan.authors or [] if author in names]


def plan_history(*, plan: MitigationPlan) -> QuerySet[AuditEvent]:
    """The plan's audit events, newest first (proposal, edits, decisions, comments)."""
    return AuditEvent.objects.filter(team_id=plan.team_id, object_type=PLAN_OBJECT, object_id=str(plan.pk)).order_by(
        "-sequence"
    )


@dataclass(frozen=True)
class PlanEffect:
    """Annual loss of the findings a plan addresses, now ("current") and with every planned control."""

    findings: int
    current: float
    projected: float
    fresh: bool

    @property
    def reduction(self) -> float:
        return self.current - self.projected


def plan_effects(plans: list[MitigationPlan]) -> dict[int, PlanEffect]:
    """For each plan: the applicable findings its control works against within its scope, with
    their current and projected loss (the columns of the last recompute). ``fresh`` is False
    while that recompute is older than the system version (a new plan is not priced yet)."""
    if not plans:
        return {}
    system_ids = {p.system_id for p in plans}
    threats_of: dict[int, set[int]] = defaultdict(set)
    control_ids = {p.control_id for p in plans}
    for control_id, threat_id in ThreatControl.objects.filter(control_id__in=control_ids).values_list(
        "control_id", "threat_id"
    ):
        threats_of[control_id].add(threat_id)
    covered = covered_assets([p.pk for p in plans if not p.system_wide])
    scoped = defaultdict(set)
    for plan_id, finding_id in MitigationPlan.findings.through.objects.filter(
        mitigationplan_id__in=[p.pk for p in plans]
    ).values_list("mitigationplan_id", "finding_id"):
        scoped[plan_id].add(finding_id)
    rows = list(
        Finding.objects.filter(system_id__in=system_ids)
        .exclude(status=FindingStatus.NOT_APPLICABLE)
        .values_list(
            "pk",
            "system_id",
            "template_id",
            "asset_id",
            "flow__source_id",
            "flow__target_id",
            "current_mean",
            "projected_mean",
        )
    )
    computed = dict(SystemRisk.objects.filter(system_id__in=system_ids).values_list("system_id", "computed_version"))
    versions = dict(System.objects.filter(pk__in=system_ids).values_list("pk", "version"))
    result = {}
    for plan in plans:
        current = projected = 0.0
        count = 0
        for pk, system_id, template_id, *ends, cur, proj in rows:
            if system_id != plan.system_id or template_id not in threats_of[plan.control_id]:
                continue
            if not plan.system_wide and pk not in scoped[plan.pk] and not covered[plan.pk].intersection(ends):
                continue
            count += 1
            current += cur or 0.0
            projected += proj or 0.0
        fresh = computed.get(plan.system_id, 0) >= versions.get(plan.system_id, 0)
        result[plan.pk] = PlanEffect(count, current, projected, fresh)
    return result


def inbox(*, user: Actor) -> list[MitigationPlan]:
    """Proposed plans in every team where the user approves (risk owner or admin), oldest first."""
    return list(
        MitigationPlan.objects.with_role(user, tuple(workflow.APPROVER_ROLES))
        .filter(status=workflow.PROPOSED)
        .select_related("control", "system__team", "proposed_by", "owner")
        .order_by("created_at", "pk")
    )


def system_risk_totals(system: System) -> dict[str, Any]:
    risk = SystemRisk.objects.filter(system=system).first()
    return risk.totals if risk else {}


def acceptance_list(*, system: System, status: str = "") -> QuerySet[RiskAcceptance]:
    qs = RiskAcceptance.objects.filter(system=system).select_related("finding__template", "accepted_by", "renews")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def acceptance_get(*, system: System, pk: int) -> RiskAcceptance:
    return get_object_or_404(
        RiskAcceptance.objects.select_related("finding__template", "system__team"), system=system, pk=pk
    )


def accepted_finding_ids(*, system_id: int) -> set[int]:
    """Findings with an acceptance that is active and not past its date (reopened findings that
    come back while accepted stay accepted)."""
    return set(
        RiskAcceptance.objects.filter(
            system_id=system_id, status=AcceptanceStatus.ACTIVE, expires_on__gte=timezone.localdate()
        ).values_list("finding_id", flat=True)
    )


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    verb: str = ""
    since: date | None = None
    until: date | None = None


def audit_list(*, system: System, filters: AuditFilter | None = None) -> QuerySet[AuditEvent]:
    """The system's audit events, newest first, filtered by actor name, verb and day range."""
    f = filters or AuditFilter()
    qs = AuditEvent.objects.filter(team_id=system.team_id, system_ref=system.pk)
    if f.actor:
        qs = qs.filter(actor_name=f.actor)
    if f.verb:
        qs = qs.filter(verb=f.verb)
    if f.since:
        qs = qs.filter(created_at__date__gte=f.since)
    if f.until:
        qs = qs.filter(created_at__date__lte=f.until)
    return qs.order_by("-sequence")


def audit_choices(*, system: System) -> tuple[list[str], list[str]]:
    """Actor names and verbs that occur in the system's audit trail (for the filter selects)."""
    qs = AuditEvent.objects.filter(team_id=system.team_id, system_ref=system.pk)
    actors = sorted(set(qs.values_list("actor_name", flat=True)))
    verbs = sorted(set(qs.values_list("verb", flat=True)))
    return actors, verbs


@dataclass(frozen=True)
class DeliveryRow:
    when: Any
    event: str
    attempts: int
    outcome: str


def webhook_deliveries(*, team: Team, limit: int = 20) -> list[DeliveryRow]:
    """The team's latest webhook deliveries as the settings page shows them: "delivered",
    "failed (status 500)", "failed (timed out)"... never anything the receiver answered."""
    from mitigations.services.webhooks import delivery_outcome

    jobs = Job.objects.filter(team=team, kind=JobKind.WEBHOOK, webhook_delivery__isnull=False)
    rows = []
    for job in jobs.select_related("webhook_delivery").order_by("-created_at", "-pk")[:limit]:
        delivery = job.webhook_delivery
        rows.append(
            DeliveryRow(job.created_at, delivery.event, delivery.attempts, delivery_outcome(delivery, job.status))
        )
    return rows
