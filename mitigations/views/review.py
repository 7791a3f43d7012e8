"""Risk-owner pages: the approval inbox, risk acceptances, a system's audit trail, the team webhook."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mitigations import selectors, workflow
from mitigations.forms import AcceptanceForm, AuditFilterForm, RevokeForm, WebhookForm
from mitigations.models import AcceptanceStatus, TeamWebhook
from mitigations.services.acceptances import acceptance_create, acceptance_revoke
from mitigations.services.webhooks import webhook_configure, webhook_remove
from threats.models import Finding, FindingStatus, SystemRisk
from workbench.choices import choice_or_blank
from workbench.models import Team
from workbench.permissions import TeamCapability, capabilities_of
from workbench.selectors import system_get
from workbench.views.helpers import add_service_errors


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """Proposed plans awaiting a decision in the teams where the user approves, with their effect."""
    plans = selectors.inbox(user=request.user)
    effects = selectors.plan_effects(plans)
    totals = dict(
        SystemRisk.objects.filter(system_id__in={p.system_id for p in plans}).values_list("system_id", "totals")
    )
    by_system: dict[int, list] = defaultdict(list)
    for plan in plans:
        by_system[plan.system_id].append(plan)
    groups = [
        {
            "system": items[0].system,
            "plans": [(plan, effects.get(plan.pk)) for plan in items],
            "totals": totals.get(system_id) or {},
        }
        for system_id, items in by_system.items()
    ]
    approver = Team.objects.with_capability(request.user, TeamCapability.APPROVE).exists()
    context = {"groups": groups, "approver": approver, "me": request.user.pk}
    return render(request, "mitigations/inbox.html", context)


@login_required
@require_safe
def acceptance_list(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    status = choice_or_blank(request.GET.get("status", ""), AcceptanceStatus)
    context = {
        "system": system,
        "acceptances": selectors.acceptance_list(system=system, status=status)[:500],
        "status": status,
        "statuses": AcceptanceStatus.choices,
        "can_accept": TeamCapability.ACCEPT_RISK in system.capabilities,
        "revoke_form": RevokeForm(),
        "open_findings": Finding.objects.filter(system=system, status=FindingStatus.OPEN)
        .select_related("template")
        .order_by("-current_mean", "template__code")[:200],
    }
    return render(request, "mitigations/acceptance_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def acceptance_new(request: HttpRequest, slug: str, finding_id: int) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    finding = get_object_or_404(Finding.objects.select_related("template"), system=system, pk=finding_id)
    system.capabilities.require(TeamCapability.ACCEPT_RISK, "Only risk owners and admins accept risk.")
    form = AcceptanceForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            acceptance_create(actor=request.user, finding=finding, **form.cleaned_data)
        except workflow.InvalidTransition as exc:
            form.add_error(None, str(exc))
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Accepted {finding.template.code} on {finding.target_repr}.")
            return redirect("mitigations:acceptance_list", slug=system.slug)
    if form.errors and status == 200:
        status = 400
    context = {"form": form, "system": system, "finding": finding}
    return render(request, "mitigations/acceptance_form.html", context, status=status)


@login_required
@require_POST
def acceptance_end(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    acceptance = selectors.acceptance_get(system=system, pk=pk)
    form = RevokeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        acceptance_revoke(actor=request.user, acceptance=acceptance, reason=reason)
    except workflow.InvalidTransition as exc:
        messages.error(request, str(exc))
        return redirect("mitigations:acceptance_list", slug=system.slug)
    messages.success(request, "Acceptance revoked; the finding is open again.")
    return redirect("mitigations:acceptance_list", slug=system.slug)


@login_required
@require_safe
def audit_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Who did what in this system, newest first; filter by actor, action and day range."""
    system = system_get(user=request.user, slug=slug)
    actors, verbs = selectors.audit_choices(system=system)
    form = AuditFilterForm(request.GET or None, actors=actors, verbs=verbs)
    filters = selectors.AuditFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AuditFilter(
            actor=data["actor"], verb=data["verb"], since=data["since"], until=data["until"]
        )
    page = Paginator(selectors.audit_list(system=system, filters=filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"system": system, "form": form, "page": page, "query": query.urlencode()}
    return render(request, "mitigations/audit_list.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, team_slug: str) -> HttpResponse:
    """The team's outbound webhook (admins only); recent deliveries and their Jobs."""
    team = get_object_or_404(Team.objects.visible_to(request.user), slug=team_slug)
    if TeamCapability.ADMINISTER_TEAM not in capabilities_of(request.user, team):
        raise PermissionDenied("Only team admins configure the webhook.")
    hook = TeamWebhook.objects.filter(team=team).first()
    initial = {"url": hook.url, "active": hook.active} if hook else {}
    form = WebhookForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and request.POST.get("remove"):
        webhook_remove(actor=request.user, team=team)
        messages.success(request, "Webhook removed.")
        return redirect("mitigations:webhook_edit", team_slug=team.slug)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_configure(actor=request.user, team=team, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("mitigations:webhook_edit", team_slug=team.slug)
    context = {"team": team, "hook": hook, "form": form, "deliveries": selectors.webhook_deliveries(team=team)}
    return render(request, "mitigations/webhook_form.html", context, status=400 if form.errors else 200)
