"""Read use-cases of the mitigations app: plans (and the controls they put in force), the
approval inbox with each plan's risk effect, acceptances and the audit trail of a system."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mitigations import workflow
from mitigations.models import AcceptanceStatus, Approval, MitigationPlan, RiskAcceptance
from threats.engine.controls import ControlsInForce, merge
from threats.engine.plan_effect import PlanControl
from threats.models import Finding, FindingStatus, SystemRisk, ThreatControl
from workbench.choices import JobKind
from workbench.models import AuditEvent, Job, System, Team
from workbench.permissions import TeamCapability
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


def plan_entries(*, system: System) -> list[PlanControl]:
    """Every implemented and pending plan of the system as the engine sees it, newest first.

    A plan scoped to findings covers each finding's target asset (for a flow: both of its ends,
    where such a control is deployed); a system-wide plan covers everything (None). A scoped
    plan whose targets were all deleted covers nothing and is left out. Three queries, whatever
    the plan count.
    """
    plans = list(
        MitigationPlan.objects.filter(
            system=system,
            status__in=[*workflow.CURRENT_STATES, *workflow.PROJECTED_STATES],
            control__active=True,
        )
        .order_by("-created_at", "-pk")
        .values_list("pk", "status", "system_wide", "control__code")
    )
    covered = covered_assets([pk for pk, _, wide, _ in plans if not wide])
    entries = []
    for pk, status, wide, code in plans:
        if wide:
            entry: frozenset[int] | None = None
        elif covered.get(pk):
            entry = frozenset(covered[pk])
        else:
            continue
        entries.append(PlanControl(pk, code, entry, status in workflow.CURRENT_STATES))
    return entries


def plan_controls_for(*, system: System) -> tuple[ControlsInForce, ControlsInForce]:
    """Controls that plans put in force: (implemented or verified, approved or proposed)."""
    entries = plan_entries(system=system)
    return (
        merge(*({e.code: e.coverage} for e in entries if e.in_force)),
        merge(*({e.code: e.coverage} for e in entries if not e.in_force)),
    )


def plan_list(*, system: System, status: str = "") -> QuerySet[MitigationPlan]:
    return _newest_first(
        MitigationPlan.objects.filter(system=system).select_related("control", "owner", "proposed_by"), status
    )


def plan_get(*, system: System, pk: int) -> MitigationPlan:
    """A plan of this (already visible) system, or 404.

    ``plan.system`` is ``system`` itself, so a page reads the caller's ``capabilities`` that
    ``system_get`` loaded with it instead of asking for the role again.
    """
    qs = MitigationPlan.objects.select_related("control", "owner", "proposed_by", "edited_by")
    plan = get_object_or_404(
        qs.prefetch_related(
            Prefetch("findings", queryset=Finding.objects.select_related("template")),
            "assets",
            Prefetch("approvals", queryset=Approval.objects.order_by("-created_at", "-pk")),
            "comments",
        ),
        system=system,
        pk=pk,
    )
    plan.system = system
    return plan


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
    """The system with and without one plan, as the last recompute priced it
    (``threats.engine.plan_effect``): expected yearly loss, current and projected views.

    ``priced`` is False for a plan the engine did not price: rejected, withdrawn or obsolete
    (it changes nothing), not yet recomputed, or beyond the plans priced per recompute.
    ``findings``: the applicable findings in the plan's scope that its control works against.
    ``computed_version``: the system version of the recompute the figures come from (None
    before the first recompute), so an API client can tell which model they describe.
    """

    findings: int
    appetite: float
    fresh: bool
    current: tuple[float, float] | None = None  # (without the plan, with it)
    projected: tuple[float, float] | None = None
    computed_version: int | None = None

    @property
    def priced(self) -> bool:
        return self.current is not None

    @property
    def current_removed(self) -> float:
        return self.current[0] - self.current[1] if self.current else 0.0


def _pair(raw: Any) -> tuple[float, float] | None:
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    return float(raw[0] or 0.0), float(raw[1] or 0.0)


def plan_findings(plans: list[MitigationPlan]) -> dict[int, list[int]]:
    """Plan id -> ids of the applicable findings in its scope that its control works against."""
    system_ids = {p.system_id for p in plans}
    threats_of: dict[int, set[int]] = defaultdict(set)
    for control_id, threat_id in ThreatControl.objects.filter(control_id__in={p.control_id for p in plans}).values_list(
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
        .order_by("-current_mean", "pk")
        .values_list("pk", "system_id", "template_id", "asset_id", "flow__source_id", "flow__target_id")
    )
    result: dict[int, list[int]] = {}
    for plan in plans:
        result[plan.pk] = [
            pk
            for pk, system_id, template_id, *ends in rows
            if system_id == plan.system_id
            and template_id in threats_of[plan.control_id]
            and (plan.system_wide or pk in scoped[plan.pk] or covered[plan.pk].intersection(ends))
        ]
    return result


def plan_effect_findings(*, plan: MitigationPlan, limit: int = 25) -> list[Finding]:
    """The findings a plan works against, largest loss first (the plan page lists them)."""
    ids = plan_findings([plan])[plan.pk][:limit]
    by_id = Finding.objects.select_related("template").in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def plan_effects(plans: list[MitigationPlan]) -> dict[int, PlanEffect]:
    """Each plan's effect on its system as stored by the last recompute; ``fresh`` is False
    while that recompute is older than the system version (a new plan is not priced yet)."""
    if not plans:
        return {}
    system_ids = {p.system_id for p in plans}
    stored = {
        system_id: (version, effects)
        for system_id, version, effects in SystemRisk.objects.filter(system_id__in=system_ids).values_list(
            "system_id", "computed_version", "plan_effects"
        )
    }
    systems = {
        pk: (version, float(appetite))
        for pk, version, appetite in System.objects.filter(pk__in=system_ids).values_list(
            "pk", "version", "risk_appetite"
        )
    }
    found = plan_findings(plans)
    result = {}
    for plan in plans:
        computed, effects = stored.get(plan.system_id, (0, {}))
        version, appetite = systems.get(plan.system_id, (0, 0.0))
        raw = (effects or {}).get(str(plan.pk)) or {}
        result[plan.pk] = PlanEffect(
            findings=len(found[plan.pk]),
            appetite=appetite,
            fresh=computed >= version,
            current=_pair(raw.get("current")),
            projected=_pair(raw.get("projected")),
            computed_version=computed if plan.system_id in stored else None,
        )
    return result


def inbox(*, user: Actor) -> list[MitigationPlan]:
    """Proposed plans in every team where the user approves (risk owner or admin), oldest first."""
    return list(
        MitigationPlan.objects.with_capability(user, TeamCapability.APPROVE)
        .filter(status=workflow.PROPOSED)
        .select_related("control", "system__team", "proposed_by", "owner")
        .order_by("created_at", "pk")
    )


def system_risk_totals(system: System) -> dict[str, Any]:
    risk = SystemRisk.objects.filter(system=system).first()
    return risk.totals if risk else {}


def acceptance_list(*, system: System, status: str = "") -> QuerySet[RiskAcceptance]:
    return _newest_first(
        RiskAcceptance.objects.filter(system=system).select_related("finding__template", "accepted_by", "renews"),
        status,
    )


Q = TypeVar("Q", MitigationPlan, RiskAcceptance)


def _newest_first(qs: QuerySet[Q], status: str) -> QuerySet[Q]:
    """A register as its pages and API list it: of one status when asked, newest first."""
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
