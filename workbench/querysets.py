"""Team scoping for every domain queryset.

Every view and API endpoint starts from ``visible_to(user)`` (reads) or ``editable_by(user)``
(writes), NetBox's restrict-by-default idea reduced to team roles. An object outside the result
is a 404 for reads; an object that is visible but not editable is a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

from workbench.choices import EDIT_ROLES

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class TeamScopedQuerySet(models.QuerySet[Any]):
    """Rows that belong to a team through ``team_path`` (a lookup path ending at the Team)."""

    team_path = "team"

    def _roles_filter(self, user: AbstractBaseUser | AnonymousUser, roles: tuple[str, ...] | None) -> Self:
        if not user.is_authenticated:
            return self.none()
        lookup = f"{self.team_path}__memberships__user" if self.team_path else "memberships__user"
        filters: dict[str, Any] = {lookup: user}
        if roles is not None:
            filters[lookup.replace("__user", "__role__in")] = list(roles)
        return self.filter(**filters).distinct()

    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> Self:
        return self._roles_filter(user, None)

    def editable_by(self, user: AbstractBaseUser | AnonymousUser) -> Self:
        return self._roles_filter(user, tuple(EDIT_ROLES))

    def with_role(self, user: AbstractBaseUser | AnonymousUser, roles: tuple[str, ...]) -> Self:
        return self._roles_filter(user, roles)


class TeamQuerySet(TeamScopedQuerySet):
    team_path = ""


class SystemQuerySet(TeamScopedQuerySet):
    pass


class ElementQuerySet(TeamScopedQuerySet):
    """Zones, assets, flows and attacker profiles carry a denormalised ``team`` FK."""
