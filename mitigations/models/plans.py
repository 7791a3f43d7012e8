"""Mitigation plans (a library control applied in a system), their sign-offs and comments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from mitigations import workflow
from threats.models import Control, Finding
from workbench.models import Asset, System, Team
from workbench.querysets import ElementQuerySet


class PlanStatus(models.TextChoices):
    PROPOSED = workflow.PROPOSED, "Proposed"
    APPROVED = workflow.APPROVED, "Approved"
    REJECTED = workflow.REJECTED, "Rejected"
    IMPLEMENTED = workflow.IMPLEMENTED, "Implemented"
    VERIFIED = workflow.VERIFIED, "Verified"
    WITHDRAWN = workflow.WITHDRAWN, "Withdrawn"
    OBSOLETE = workflow.OBSOLETE, "Obsolete"


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class MitigationPlan(models.Model):
    """A control applied to findings or assets of one system (none of either: system-wide).

    ``status`` changes only through ``mitigations.services.transitions`` (the workflow table, and
    ``services.obsolete`` for a scope that was deleted); ``revision`` counts content changes
    and ``content_hash`` fingerprints the content, so a decision names (and must match) what the
    reviewer saw.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="mitigation_plans")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="plans")
    control = models.ForeignKey(Control, on_delete=models.PROTECT, related_name="plans")
    description = models.TextField(blank=True, max_length=5000, help_text="What will be done, where, by whom.")
    findings = models.ManyToManyField(Finding, blank=True, related_name="plans")
    assets = models.ManyToManyField(Asset, blank=True, related_name="plans")
    # Set when the plan was filed with no findings and no assets: the control then covers the
    # whole system. Kept explicit so a plan whose scoped assets were deleted never widens.
    system_wide = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    cost_one_off = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )
    cost_yearly = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )
    evidence_links = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revision = models.PositiveIntegerField(default=1, help_text="Increases whenever the content changes.")
    content_hash = models.CharField(max_length=64)
    # Ids of everyone who wrote a revision of the content (the proposer first): four eyes keeps
    # all of them from deciding, not just the proposer and the last editor.
    authors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["system", "status"]), models.Index(fields=["team", "status"])]

    def __str__(self) -> str:
        return f"{self.control.code} in {self.system.name}"

    def get_absolute_url(self) -> str:
        return reverse("mitigations:plan_detail", kwargs={"slug": self.system.slug, "pk": self.pk})

    @property
    def facts(self) -> workflow.PlanFacts:
        return workflow.PlanFacts(
            status=self.status,
            proposed_by=self.proposed_by_id,
            edited_by=self.edited_by_id,
            implemented_by=self.implemented_by_id,
            authors=frozenset(int(a) for a in self.authors or ()),
        )


class Approval(models.Model):
    """A risk owner's decision on one revision of a plan, with the content hash it covered.

    One decision per revision is a database constraint: two approvers racing on the same plan
    cannot both record a decision even if the status check were bypassed.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(MitigationPlan, on_delete=models.CASCADE, related_name="approvals")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_name = models.CharField(max_length=150)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True, max_length=2000)
    revision = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "revision"], name="%(app_label)s_%(class)s_one_per_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.decision} revision {self.revision} of plan {self.plan_id}"

    @property
    def still_valid(self) -> bool:
        """An approval stands only for the content it saw."""
        return self.decision == Decision.APPROVED and self.content_hash == self.plan.content_hash


class PlanComment(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(MitigationPlan, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    author_name = models.CharField(max_length=150)
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author_name} on plan {self.plan_id}"
