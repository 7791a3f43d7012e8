"""Create, edit and delete pages for zones, assets, flows and attacker profiles.

One table (``ELEMENTS``) maps the URL's kind to its model and form (the model's services are
``ELEMENT_SERVICES``), so the four element types share three small views instead of twelve
near-copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from workbench import selectors
from workbench.forms import AssetForm, AttackerProfileForm, DataFlowForm, SystemScopedForm, TrustZoneForm
from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone
from workbench.services.elements import ELEMENT_SERVICES, ElementServices
from workbench.views.helpers import add_service_errors, system_for_write


@dataclass(frozen=True)
class ElementType:
    model: type[Any]
    form: type[SystemScopedForm]
    label: str

    @property
    def services(self) -> ElementServices:
        return ELEMENT_SERVICES[self.model]


ELEMENTS: dict[str, ElementType] = {
    "zones": ElementType(TrustZone, TrustZoneForm, "trust zone"),
    "assets": ElementType(Asset, AssetForm, "asset"),
    "flows": ElementType(DataFlow, DataFlowForm, "data flow"),
    "attackers": ElementType(AttackerProfile, AttackerProfileForm, "attacker profile"),
}


def _element_type(kind: str) -> ElementType:
    try:
        return ELEMENTS[kind]
    except KeyError as exc:
        raise Http404("Unknown element type.") from exc


def _form_page(request: HttpRequest, system: System, etype: ElementType, instance: Any | None) -> HttpResponse:
    form = etype.form(request.POST if request.method == "POST" else None, instance=instance, system=system)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            saved = etype.services.save_instance(actor=request.user, system=system, instance=instance, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved {etype.label} “{saved}”.")
            return redirect(system)
    title = f"Edit {etype.label}" if instance is not None else f"New {etype.label}"
    return render(
        request,
        "workbench/element_form.html",
        {"form": form, "system": system, "title": title},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def element_new(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    etype = _element_type(kind)
    return _form_page(request, system_for_write(request, slug), etype, None)


def _element_for_write(request: HttpRequest, slug: str, kind: str, pk: int) -> tuple[ElementType, System, Any]:
    """The URL's element type, its system (the caller may edit it) and the element itself, or 404."""
    etype = _element_type(kind)
    system = system_for_write(request, slug)
    return etype, system, selectors.element_get(model=etype.model, user=request.user, system=system, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def element_edit(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    etype, system, instance = _element_for_write(request, slug, kind, pk)
    return _form_page(request, system, etype, instance)


@login_required
@require_http_methods(["GET", "POST"])
def element_remove(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    etype, system, instance = _element_for_write(request, slug, kind, pk)
    if request.method == "POST":
        label = str(instance)
        etype.services.delete_instance(actor=request.user, instance=instance)
        messages.success(request, f"Deleted {etype.label} “{label}”.")
        return redirect(system)
    return render(
        request, "workbench/confirm_delete.html", {"object": instance, "system": system, "kind_label": etype.label}
    )
