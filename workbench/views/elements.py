"""Create, edit and delete pages for zones, assets, flows and attacker profiles.

One table (``ELEMENTS``) maps the URL's kind to its model, form and services, so the four
element types share three small views instead of twelve near-copies.
"""

from __future__ import annotations

from collections.abc import Callable
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
from workbench.services import elements as svc
from workbench.views.helpers import add_service_errors, system_for_write


@dataclass(frozen=True)
class ElementType:
    model: type[Any]
    form: type[SystemScopedForm]
    label: str
    instance_kwarg: str
    save: Callable[..., Any]
    delete: Callable[..., None]
    m2m: tuple[str, ...] = ()


ELEMENTS: dict[str, ElementType] = {
    "zones": ElementType(TrustZone, TrustZoneForm, "trust zone", "zone", svc.zone_save, svc.zone_delete),
    "assets": ElementType(Asset, AssetForm, "asset", "asset", svc.asset_save, svc.asset_delete),
    "flows": ElementType(DataFlow, DataFlowForm, "data flow", "flow", svc.flow_save, svc.flow_delete, ("carries",)),
    "attackers": ElementType(
        AttackerProfile,
        AttackerProfileForm,
        "attacker profile",
        "attacker",
        svc.attacker_save,
        svc.attacker_delete,
        ("entry_zones", "entry_assets"),
    ),
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
        kwargs = {name: fields.pop(name) for name in etype.m2m}
        if instance is not None:
            kwargs[etype.instance_kwarg] = instance
        try:
            saved = etype.save(actor=request.user, system=system, **kwargs, **fields)
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


@login_required
@require_http_methods(["GET", "POST"])
def element_edit(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    etype = _element_type(kind)
    system = system_for_write(request, slug)
    instance = selectors.element_get(model=etype.model, user=request.user, system=system, pk=pk)
    return _form_page(request, system, etype, instance)


@login_required
@require_http_methods(["GET", "POST"])
def element_remove(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    etype = _element_type(kind)
    system = system_for_write(request, slug)
    instance = selectors.element_get(model=etype.model, user=request.user, system=system, pk=pk)
    if request.method == "POST":
        label = str(instance)
        etype.delete(actor=request.user, **{etype.instance_kwarg: instance})
        messages.success(request, f"Deleted {etype.label} “{label}”.")
        return redirect(system)
    return render(
        request, "workbench/confirm_delete.html", {"object": instance, "system": system, "kind_label": etype.label}
    )
