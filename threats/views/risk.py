"""The risk panel of the system page (polled with htmx while results are stale)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from threats.selectors_risk import risk_summary, top_risks
from workbench.selectors import system_get


@login_required
@require_safe
def risk_panel(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    context = {"system": system, "summary": risk_summary(system=system), "top": top_risks(system=system)}
    return render(request, "threats/_risk_panel.html", context)
