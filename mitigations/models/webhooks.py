"""A team's optional outbound webhook, and one row per delivery (its Job holds the outcome)."""

from __future__ import annotations

from django.db import models

from workbench.models import Job, Team


class TeamWebhook(models.Model):
    """Where plan and acceptance events are POSTed, signed with HMAC-SHA256 of the body."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500, help_text="http(s) endpoint that receives a signed JSON POST per event.")
    secret = models.CharField(max_length=64, help_text="HMAC key; the receiver checks X-Workbench-Signature.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"webhook of {self.team}"


class WebhookDelivery(models.Model):
    """The exact signed body of one event, so a retry sends the same bytes and signature."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="webhook_delivery")
    url = models.URLField(max_length=500)
    event = models.CharField(max_length=60)
    body = models.TextField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} to {self.url} ({self.attempts} attempts)"
