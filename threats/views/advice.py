"""The control advisor page: which controls to propose first and which flows to harden first.

Advice is computed on request from the current model (``services.advice``), never stored, so
it always matches what the user sees; it is a read, open to every member. Editors get a
"Propose" button per suggestion that posts the control and the findings and assets it applies
to straight to the mitigation plan form (``mitigations:plan_new``): one click files a proposal.
A flow to harden has no single control, so its button opens that form pre-filled instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from threats.services.advice import cached_system_advice
from workbench.models import System
from workbench.permissions import TeamCapability
from workbench.views.helpers import system_for_read


@login_required
@require_safe
def advice_page(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_for_read(request, slug)
    context = {
        "system": system,
        "advice": system_advice_now(system),
        "can_edit": TeamCapability.EDIT_MODEL in system.capabilities,
    }
    return render(request, "threats/advice.html", context)


TOP_ACTIONS = 3
TOP_CHOKE_POINTS = 5
# Above this many assets the system page does not work the advice out on its own (it can take
# minutes, bench/advisor.py); it shows it when the advisor page has computed it for this version.
INLINE_ADVICE_ASSETS = 400


def system_advice_now(system: System) -> dict[str, Any]:
    advice = cached_system_advice(system=system)
    assert advice is not None  # computed when absent
    return advice


@login_required
@require_safe
def advice_summary(request: HttpRequest, slug: str) -> HttpResponse:
    """The system page's "What to do first": the advisor's first actions and the choke points.

    Loaded by the page after it renders (the advice takes a moment on a big system), from the
    same advice the advisor page shows for this version.
    """
    system = system_for_read(request, slug)
    small = system.assets.count() <= INLINE_ADVICE_ASSETS
    advice = cached_system_advice(system=system, compute=small)
    if advice is None:
        return render(request, "threats/_advice_summary_later.html", {"system": system})
    context = {
        "system": system,
        "advice": advice,
        "steps": advice["controls"]["steps"][:TOP_ACTIONS],
        "more": max(len(advice["controls"]["steps"]) - TOP_ACTIONS, 0),
        "choke_points": advice["choke_points"][:TOP_CHOKE_POINTS],
        "can_edit": TeamCapability.EDIT_MODEL in system.capabilities,
    }
    return render(request, "threats/_advice_summary.html", context)
