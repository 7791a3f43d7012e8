"""Read use-cases of the modelling app, with team scoping built in."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from workbench.choices import EDIT_ROLES
from workbench.models import Asset, AttackerProfile, AuditEvent, DataFlow, Membership, System, Team, TrustZone
from workbench.services.common import Actor


def team_list(*, user: Actor) -> QuerySet[Team]:
    return Team.objects.visible_to(user)


def system_list(*, user: Actor, team_id: int | None = None) -> QuerySet[System]:
    """Systems the user can see (optionally only one team's), with element counts for listings."""
    qs = System.objects.visible_to(user).select_related("team", "owner")
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return qs.annotate(asset_count=Count("assets", distinct=True), flow_count=Count("flows", distinct=True)).order_by(
        "team__name", "name"
    )


def system_get(*, user: Actor, slug: str, editable: bool = False, team_id: int | None = None) -> System:
    """One visible system or 404 (another team's system looks exactly like a missing one)."""
    qs = System.objects.editable_by(user) if editable else System.objects.visible_to(user)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return get_object_or_404(qs.select_related("team", "owner"), slug=slug)


def system_with_elements(*, user: Actor, slug: str, team_id: int | None = None) -> System:
    """A visible system with its zones, assets, flows and attackers prefetched (constant queries)."""
    qs = (
        System.objects.visible_to(user)
        .select_related("team", "owner")
        .prefetch_related(
            Prefetch("zones", queryset=TrustZone.objects.select_related("parent")),
            Prefetch("assets", queryset=Asset.objects.select_related("zone", "hosted_on")),
            Prefetch("flows", queryset=DataFlow.objects.select_related("source", "target").prefetch_related("carries")),
            Prefetch("attackers", queryset=AttackerProfile.objects.prefetch_related("entry_zones", "entry_assets")),
        )
    )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return get_object_or_404(qs, slug=slug)


def user_can_edit(*, user: Actor, team: Team) -> bool:
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(team=team, user_id=user.pk, role__in=list(EDIT_ROLES)).exists()


def element_get(*, model: type[Any], user: Actor, system: System, pk: int) -> Any:
    """An element of a visible system, or 404 when it is not in that system."""
    return get_object_or_404(model.objects.visible_to(user), system=system, pk=pk)


def system_activity(*, system: System, limit: int = 15) -> QuerySet[AuditEvent]:
    """The latest audit events of one system, newest first (the system page's activity feed)."""
    return AuditEvent.objects.filter(system=system).order_by("-sequence")[:limit]
