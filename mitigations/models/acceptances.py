"""Risk acceptances: a risk owner takes a finding's residual risk until an expiry date."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from threats.models import Finding
from workbench.models import System, Team
from workbench.querysets import ElementQuerySet


class AcceptanceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class RiskAcceptance(models.Model):
    """While active, the finding is ``accepted``: out of the open counts, still in the loss totals.

    Valid through ``expires_on`` (inclusive); the daily sweep ends it the day after and reopens
    the finding. At most one active acceptance per finding (a partial unique constraint).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="acceptances")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="acceptances")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    accepted_by_name = models.CharField(max_length=150)
    justification = models.TextField(max_length=5000)
    expires_on = models.DateField()
    status = models.CharField(max_length=8, choices=AcceptanceStatus.choices, default=AcceptanceStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(max_length=200, blank=True)
    # A renewal: the finding's previous acceptance (revoked or expired) this one takes over from.
    renews = models.OneToOneField("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="renewed_by")

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["finding"],
                condition=Q(status="active"),
                name="%(app_label)s_%(class)s_one_active_per_finding",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_on"])]

    def __str__(self) -> str:
        return f"acceptance of finding {self.finding_id} until {self.expires_on}"
