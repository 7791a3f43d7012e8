"""The control advisor page: which controls to propose first and which flows to harden first.

Advice is computed on request from the current model (``services.advice``), never stored, so
it always matches what the user sees; it is a read, open to every member. Editors get a
"Propose" button per suggestion that posts the control and the findings and assets it applies
to straight to the mitigation plan form (``mitigations:plan_new``): one click files a proposal.
A flow to harden has no single control, so its button opens that form pre-filled instead.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from threats.services.advice import system_advice
from workbench import selectors
from workbench.views.helpers import system_for_read


@login_required
@require_GET
def advice_page(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_for_read(request, slug)
    context = {
        "system": system,
        "advice": system_advice(system=system),
        "can_edit": selectors.user_can_edit(user=request.user, team=system.team),
    }
    return render(request, "threats/advice.html", context)
