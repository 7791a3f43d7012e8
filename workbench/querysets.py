"""Team scoping for every domain queryset.

Every view and API endpoint starts from ``visible_to(user)`` (reads) or ``editable_by(user)``
(writes), NetBox's restrict-by-default idea reduced to team roles. An object outside the result
is a 404 for reads; an object that is visible but not editable is a 403. Which roles a filter
lets through comes from ``workbench.permissions`` (``with_capability``), never from a role list
of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

from workbench.choices import Role
from workbench.permissions import TeamCapability, roles_with

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class TeamScopedQuerySet(models.QuerySet[Any]):
    """Rows that belong to a team through ``team_path`` (a lookup path ending at the Team)."""

    team_path = "team"

    def with_capability(self, user: AbstractBaseUser | AnonymousUser, capability: TeamCapability) -> Self:
        """Rows of the teams where ``user``'s role grants ``capability``.

        A capability every role grants (viewing) filters on membership alone, without a role
        condition: the same rows, and the query every page starts from stays as simple as it was.
        """
        if not user.is_authenticated:
            return self.none()
        lookup = f"{self.team_path}__memberships__user" if self.team_path else "memberships__user"
        filters: dict[str, Any] = {lookup: user}
        roles = roles_with(capability)
        if set(roles) != set(Role.values):
            filters[lookup.replace("__user", "__role__in")] = list(roles)
        return self.filter(**filters).distinct()

    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> Self:
        return self.with_capability(user, TeamCapability.VIEW_SYSTEM)

    def editable_by(self, user: AbstractBaseUser | AnonymousUser) -> Self:
        return self.with_capability(user, TeamCapability.EDIT_MODEL)


class TeamQuerySet(TeamScopedQuerySet):
    team_path = ""


class SystemQuerySet(TeamScopedQuerySet):
    pass


class ElementQuerySet(TeamScopedQuerySet):
    """Zones, assets, flows and attacker profiles carry a denormalised ``team`` FK."""
