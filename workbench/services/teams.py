"""Team and membership services."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from workbench.choices import Role
from workbench.models import Membership, Team
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_instance
from workbench.services.common import Actor


def _unique_slug(model: type[Team], base: str) -> str:
    root = slugify(base)[:60] or "item"
    slug, n = root, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{root}-{n}"
    return slug


@transaction.atomic
def team_create(*, name: str, creator: User) -> Team:
    """Create a team with its creator as admin; the first audit event opens its chain."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name must not be blank."})
    team = Team(name=name, slug=_unique_slug(Team, name))
    team.full_clean()
    team.save()
    Membership.objects.create(team=team, user=creator, role=Role.ADMIN)
    audit_instance(
        actor=creator, verb="create", instance=team, team=team, after={"name": team.name, "admin": creator.pk}
    )
    return team


@transaction.atomic
def membership_set(*, actor: Actor, team: Team, user: User, role: str) -> Membership:
    """Add a member or change a member's role; only team admins may do this."""
    require(actor, team, TeamCapability.ADMINISTER_TEAM)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    membership, created = Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})
    before = None if created else {"role": membership.role}
    if not created and membership.role == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    audit_instance(
        actor=actor,
        verb="set_role",
        instance=membership,
        team=team,
        label=f"{user.get_username()} as {role}",
        before=before,
        after={"role": role},
    )
    return membership
