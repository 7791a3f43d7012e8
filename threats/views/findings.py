"""The finding page (threat, target, why, risk, plans, acceptance) and its comments.

Thin adapters: a selector reads (another team's system or finding is a 404), a form shapes the
comment, one service writes. What the caller may do (comment, propose, accept) comes with the
finding's system (``workbench.permissions``: viewers read; editors, risk owners and admins
comment); a bad comment re-renders the page with the form error as a 400.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from threats import selectors
from threats.forms import FindingCommentForm
from threats.models import Finding, FindingStatus
from threats.ports import mitigations
from threats.services.comments import finding_comment_add, finding_comment_remove, may_remove
from workbench.permissions import TeamCapability
from workbench.views.helpers import add_service_errors


def _page_url(finding: Finding) -> str:
    return reverse("threats:finding_detail", kwargs={"slug": finding.system.slug, "pk": finding.pk})


def _render(request: HttpRequest, finding: Finding, form: FindingCommentForm, status: int = 200) -> HttpResponse:
    capabilities = finding.system.capabilities
    context: dict[str, Any] = {
        "system": finding.system,
        "finding": finding,
        "risk_views": selectors.finding_risk_views(finding),
        "plans": mitigations().finding_plans(finding=finding),
        "acceptances": mitigations().finding_acceptances(finding=finding, limit=50),
        "comments": [
            (comment, may_remove(capabilities=capabilities, actor=request.user, comment=comment))
            for comment in finding.comments.all()
        ],
        "comment_form": form,
        "can_comment": TeamCapability.COMMENT in capabilities,
        "can_accept": TeamCapability.ACCEPT_RISK in capabilities and finding.status == FindingStatus.OPEN,
        "can_plan": TeamCapability.PROPOSE in capabilities and finding.status != FindingStatus.NOT_APPLICABLE,
    }
    return render(request, "threats/finding_detail.html", context, status=status)


@login_required
@require_safe
def finding_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    finding = selectors.finding_get(user=request.user, slug=slug, pk=pk)
    return _render(request, finding, FindingCommentForm())


@login_required
@require_POST
def finding_comment(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Add a comment, then redirect to the page's comments (PRG); 400 with the error otherwise."""
    finding = selectors.finding_get(user=request.user, slug=slug, pk=pk)
    finding.system.capabilities.require(TeamCapability.COMMENT, "Viewers cannot comment.")
    form = FindingCommentForm(request.POST)
    if form.is_valid():
        try:
            finding_comment_add(actor=request.user, finding=finding, body=form.cleaned_data["body"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(f"{_page_url(finding)}#comments")
    return _render(request, finding, form, status=400)


@login_required
@require_POST
def finding_comment_delete(request: HttpRequest, slug: str, pk: int, comment_id: int) -> HttpResponse:
    """Remove a comment (its author or a team admin; anyone else gets a 403)."""
    finding = selectors.finding_get(user=request.user, slug=slug, pk=pk)
    comment = selectors.finding_comment_get(finding=finding, pk=comment_id)
    finding_comment_remove(actor=request.user, comment=comment)
    messages.success(request, "Comment removed.")
    return redirect(f"{_page_url(finding)}#comments")
