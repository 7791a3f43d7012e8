"""Read use-cases of the modelling app, with team scoping built in."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from workbench.models import (
    Asset,
    AssetCopy,
    AttackerProfile,
    AuditEvent,
    DataFlow,
    Membership,
    System,
    Team,
    TrustZone,
)
from workbench.permissions import Capabilities
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


# A team slug, "--" and a system slug; anything longer is not a slug this code wrote.
MAX_SLUG_LOOKUP = 200


class AmbiguousSystemSlug(Http404):
    """A plain slug that names systems in more than one of the caller's teams (a 404 with advice)."""


def _slug_match(slug: str) -> Q:
    """``slug`` itself, or the qualified ``<team-slug>--<system-slug>`` naming one team's system.

    System slugs are unique per team, so a plain slug can name one system in each of a user's
    teams; the qualified form always names one. Generated slugs never contain "--" (slugify
    collapses dashes and trailing ones are trimmed); every "--" is tried as the split point.
    """
    match = Q(slug=slug)
    for at in range(1, len(slug) - 2):
        if slug.startswith("--", at):
            match |= Q(team__slug=slug[:at], slug=slug[at + 2 :])
    return match


def system_by_slug(*, qs: QuerySet[System], slug: str) -> System:
    """The one system of ``qs`` (already scoped to the caller) that ``slug`` names, or 404.

    Two of the caller's teams with the same slug: the plain slug names neither (never a guess,
    which could show or change the wrong team's system) and the 404 lists the qualified slugs.
    An API token belongs to one team, so token clients never meet this.
    """
    if len(slug) > MAX_SLUG_LOOKUP:
        raise Http404("No System matches the given query.")
    match = _slug_match(slug)
    found = list(qs.filter(match)[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        raise Http404("No System matches the given query.")
    names = sorted(f"{team}--{system}" for team, system in qs.filter(match).values_list("team__slug", "slug")[:20])
    raise AmbiguousSystemSlug(f"The slug names systems in several teams; use one of: {', '.join(names)}.")


def _caller_role(user: Actor) -> Subquery:
    """The user's role in the row's team, for annotating systems (``None``: not a member)."""
    role = Membership.objects.filter(team_id=OuterRef("team_id"), user_id=int(user.pk or 0)).values("role")[:1]
    return Subquery(role)


def _for_caller(*, qs: QuerySet[System], user: Actor, slug: str) -> System:
    """``system_by_slug`` with ``system.capabilities`` (the caller's) read in the same query.

    A page or API view that loads a system then knows what the caller may do there without a
    second query; services check again on their own (``workbench.permissions.require``).
    """
    system = system_by_slug(qs=qs.annotate(caller_role=_caller_role(user)), slug=slug)
    system.capabilities = Capabilities.of(getattr(system, "caller_role", None))
    return system


def system_get(*, user: Actor, slug: str, editable: bool = False, team_id: int | None = None) -> System:
    """One visible system or 404 (another team's system looks exactly like a missing one).

    The system carries ``capabilities``, the caller's in its team, from the same query.
    """
    qs = System.objects.editable_by(user) if editable else System.objects.visible_to(user)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return _for_caller(qs=qs.select_related("team", "owner"), user=user, slug=slug)


# An asset's copies (with their holders' names) and served models, for tables and the API.
ASSET_PREFETCH = (
    Prefetch(
        "copies",
        queryset=AssetCopy.objects.select_related("holder").only("asset_id", "holder__name", "mode", "position"),
    ),
    Prefetch("serves", queryset=Asset.objects.only("id", "name")),
)


def system_with_elements(*, user: Actor, slug: str, team_id: int | None = None) -> System:
    """A visible system with its zones, assets, flows and attackers prefetched (constant queries),
    and the caller's ``capabilities`` as ``system_get`` gives them."""
    qs = (
        System.objects.visible_to(user)
        .select_related("team", "owner")
        .prefetch_related(
            Prefetch("zones", queryset=TrustZone.objects.select_related("parent")),
            Prefetch(
                "assets", queryset=Asset.objects.select_related("zone", "hosted_on").prefetch_related(*ASSET_PREFETCH)
            ),
            Prefetch("flows", queryset=DataFlow.objects.select_related("source", "target").prefetch_related("carries")),
            Prefetch("attackers", queryset=AttackerProfile.objects.prefetch_related("entry_zones", "entry_assets")),
        )
    )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return _for_caller(qs=qs, user=user, slug=slug)


# --- the system page's element tables (#8: a page of rows costs the same queries at any size) ---

ELEMENT_MODELS: dict[str, type[Any]] = {
    "zones": TrustZone,
    "assets": Asset,
    "flows": DataFlow,
    "attackers": AttackerProfile,
}


def _element_count(model: type[Any]) -> Coalesce:
    rows = model.objects.filter(system=OuterRef("pk")).order_by().values("system").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def system_with_counts(*, user: Actor, slug: str) -> System:
    """A visible system (or 404) with ``<kind>_count`` for each element kind and the caller's
    ``capabilities``, all in one query.

    The system page pages its element tables; these counts let the paginators skip their own
    COUNT queries when no filter is applied.
    """
    qs = System.objects.visible_to(user).select_related("team", "owner")
    counts = {f"{kind}_count": _element_count(model) for kind, model in ELEMENT_MODELS.items()}
    return _for_caller(qs=qs.annotate(**counts), user=user, slug=slug)


def element_table_list(*, system: System, kind: str, name: str = "") -> QuerySet[Any]:
    """The rows of one element table of the system page, in a stable order (pk breaks ties).

    Everything a row shows is joined or prefetched, and the prefetches run for the sliced page
    only, so the page costs the same few queries for 5 or 5,000 elements. ``name`` keeps the
    rows whose name contains it (for flows, also the source's or target's name).
    """
    model = ELEMENT_MODELS[kind]
    qs = model.objects.filter(system=system)
    if kind == "zones":
        qs = qs.select_related("parent")
    elif kind == "assets":
        qs = qs.select_related("zone", "hosted_on").prefetch_related(*ASSET_PREFETCH)
    elif kind == "flows":
        qs = qs.select_related("source", "target").prefetch_related(
            Prefetch("carries", queryset=Asset.objects.only("id", "name"))
        )
    else:
        qs = qs.prefetch_related(
            Prefetch("entry_zones", queryset=TrustZone.objects.only("id", "name", "trust_level")),
            Prefetch("entry_assets", queryset=Asset.objects.only("id", "name")),
        )
    if name:
        match = Q(name__icontains=name)
        if kind == "flows":
            match |= Q(source__name__icontains=name) | Q(target__name__icontains=name)
        qs = qs.filter(match)
    return qs.order_by(*model._meta.ordering, "pk")


def element_get(*, model: type[Any], user: Actor, system: System, pk: int) -> Any:
    """An element of a visible system, or 404 when it is not in that system."""
    return get_object_or_404(model.objects.visible_to(user), system=system, pk=pk)


def system_activity(*, system: System, limit: int = 15) -> QuerySet[AuditEvent]:
    """The latest audit events of one system, newest first (the system page's activity feed)."""
    return AuditEvent.objects.filter(system=system).order_by("-sequence")[:limit]
