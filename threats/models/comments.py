"""Comments on findings: the team's discussion of one threat on one target (issue 8).

A comment changes no risk figure, so writing one never bumps ``System.version``; it is recorded
in the audit chain instead, which is what puts it in the system's activity feed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from threats.models.findings import Finding
from workbench.models import System, Team
from workbench.querysets import ElementQuerySet

MAX_BODY = 5000


class FindingComment(models.Model):
    """One remark on a finding, with the author's name kept as written.

    Findings are updated in place by every recompute (closed, never deleted, when their rule
    stops matching), so the finding FK is stable and a comment follows its finding's history.
    ``author`` is SET_NULL rather than PROTECT: deleting a departed user's account must not be
    blocked by what they once wrote, and the comment stays readable through ``author_name``
    (the audit event holds the same name).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="finding_comments")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    author_name = models.CharField(max_length=150)
    body = models.TextField(max_length=MAX_BODY)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # The service strips and checks the body; this keeps an empty one out of the table
            # whatever writes to it.
            models.CheckConstraint(condition=~Q(body=""), name="%(app_label)s_%(class)s_body_not_empty"),
        ]
        indexes = [models.Index(fields=["finding", "created_at"])]

    def __str__(self) -> str:
        return f"{self.author_name} on finding {self.finding_id}"
