"""Small helpers shared by the page views: access checks and error mapping."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from workbench import selectors
from workbench.models import System
from workbench.permissions import TeamCapability


def system_for_read(request: HttpRequest, slug: str) -> System:
    return selectors.system_get(user=request.user, slug=slug)


def system_for_write(request: HttpRequest, slug: str) -> System:
    """A visible system the user may edit: 404 when invisible, 403 when visible but read-only."""
    system = selectors.system_get(user=request.user, slug=slug)
    system.capabilities.require(TeamCapability.EDIT_MODEL, "Your role in this team is read-only.")
    return system


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form, field by field where the field exists."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
