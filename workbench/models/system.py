"""The System: one threat model, versioned on every change of its elements."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from workbench.models.teams import Team
from workbench.querysets import SystemQuerySet
from workbench.validators import validate_plain_name

if TYPE_CHECKING:
    from workbench.permissions import Capabilities


class System(models.Model):
    """One threat model; ``version`` increases in the same transaction as every change."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="systems")
    name = models.CharField(max_length=120, validators=[validate_plain_name])
    # Unique per team, not site-wide: a global slug told a team whether another team had a system
    # of the same name (the "-2" suffix). Every lookup by slug is scoped to the caller's teams.
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True, max_length=5000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_systems"
    )
    risk_appetite = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        default=Decimal("1000000"),
        validators=[MinValueValidator(Decimal(0))],
        help_text="Tolerated annualised loss, in the system's currency per year.",
    )
    currency = models.CharField(max_length=3, default="USD")
    review_due = models.DateField(null=True, blank=True)
    version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SystemQuerySet.as_manager()

    # Not a column: what the caller of a request may do in this system's team, set by the
    # selectors that load one system for a request (``workbench.selectors.system_get`` and its
    # siblings) from the same query. A system loaded any other way does not have it.
    capabilities: Capabilities

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="%(app_label)s_%(class)s_unique_name"),
            models.UniqueConstraint(fields=["team", "slug"], name="%(app_label)s_%(class)s_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("workbench:system_detail", kwargs={"slug": self.slug})
