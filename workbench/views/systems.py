"""Dashboard and system pages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_safe

from threats.selectors_risk import dashboard_by_team, dashboard_risk, risk_summary, top_risks
from workbench import selectors
from workbench.forms import SystemForm
from workbench.models import Team
from workbench.permissions import TeamCapability
from workbench.services.systems import system_create, system_delete, system_update
from workbench.views import tables
from workbench.views.helpers import add_service_errors, system_for_write


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """The user's teams' systems with their risk against the appetite, over-appetite ones first.

    While some system's results are being computed the systems section re-fetches this page and
    swaps itself in (htmx ``hx-select``), so no separate partial view is needed.
    """
    teams = selectors.team_list(user=request.user)
    rows = dashboard_risk(systems=list(selectors.system_list(user=request.user)))
    can_create = Team.objects.with_capability(request.user, TeamCapability.EDIT_MODEL).exists()
    context = {
        "teams": teams,
        "groups": dashboard_by_team(rows),
        "computing": any(row.state in ("recomputing", "pending") for row in rows),
        "can_create": can_create,
    }
    return render(request, "workbench/dashboard.html", context)


class NewSystemForm(SystemForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none())

    class Meta(SystemForm.Meta):
        fields = ["team", *SystemForm.Meta.fields]


@login_required
@require_http_methods(["GET", "POST"])
def system_new(request: HttpRequest) -> HttpResponse:
    form = NewSystemForm(request.POST if request.method == "POST" else None)
    teams = Team.objects.with_capability(request.user, TeamCapability.EDIT_MODEL)
    form.fields["team"].queryset = teams  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        team = data.pop("team")
        try:
            system = system_create(actor=request.user, team=team, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Created {system.name}.")
            return redirect(system)
    return render(
        request, "workbench/system_form.html", {"form": form, "title": "New system"}, status=400 if form.errors else 200
    )


@login_required
@require_safe
def system_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The system page: header, diagram editor, risk, diagrams, activity and paged element tables.

    An htmx request aimed at one table (``HX-Target: assets`` from its pager or filter) gets
    only that table back, so paging a 1,500-flow table never re-renders or reloads the rest.
    """
    system = selectors.system_with_counts(user=request.user, slug=slug)
    can_edit = TeamCapability.EDIT_MODEL in system.capabilities
    target = request.headers.get("HX-Target", "") if request.headers.get("HX-Request") == "true" else ""
    if target in tables.TABLE_KINDS:
        table = tables.element_table(system=system, kind=target, params=request.GET)
        context = {"system": system, "can_edit": can_edit, "table": table}
        return _varies_by_htmx(render(request, f"workbench/_{target}_table.html", context))
    context = {
        "system": system,
        "can_edit": can_edit,
        "tables": tables.element_tables(system=system, params=request.GET),
        "summary": risk_summary(system=system),
        "top": top_risks(system=system),
        "activity": selectors.system_activity(system=system),
        # ``?editor=off`` serves the page without the diagram island (bench/editor.py's baseline).
        "editor_enabled": request.GET.get("editor") != "off",
    }
    return _varies_by_htmx(render(request, "workbench/system_detail.html", context))


def _varies_by_htmx(response: HttpResponse) -> HttpResponse:
    """One URL answers with the page or one table: caches (and the back button) must tell them apart."""
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@login_required
@require_safe
def system_activity(request: HttpRequest, slug: str) -> HttpResponse:
    """The activity feed partial, refreshed in place by the version poller."""
    system = selectors.system_get(user=request.user, slug=slug)
    context = {"system": system, "activity": selectors.system_activity(system=system)}
    return render(request, "workbench/_activity.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def system_edit(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_for_write(request, slug)
    form = SystemForm(request.POST if request.method == "POST" else None, instance=system)
    if request.method == "POST" and form.is_valid():
        try:
            system_update(actor=request.user, system=system_for_write(request, slug), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect(system)
    return render(
        request,
        "workbench/system_form.html",
        {"form": form, "title": f"Edit {system.name}", "system": system},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def system_remove(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_for_write(request, slug)
    if request.method == "POST":
        name = system.name
        system_delete(actor=request.user, system=system)
        messages.success(request, f"Deleted {name}.")
        return redirect("workbench:dashboard")
    return render(
        request, "workbench/confirm_delete.html", {"object": system, "system": system, "kind_label": "system"}
    )
