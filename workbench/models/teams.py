"""Teams (workspaces), memberships with roles, and team-scoped API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from workbench.choices import Role
from workbench.querysets import TeamQuerySet
from workbench.validators import validate_plain_name


class Team(models.Model):
    """A workspace; every domain row belongs to exactly one team."""

    name = models.CharField(max_length=120, validators=[validate_plain_name])
    slug = models.SlugField(max_length=80, unique=True)
    # Sequence of the newest audit event; lets verify_audit notice a deleted tail of the chain.
    audit_head = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="%(app_label)s_%(class)s_unique_member"),
        ]
        ordering = ["team", "user"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} as {self.role}"


class ApiToken(models.Model):
    """A personal API token, scoped to one team; only its SHA-256 digest is stored."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
