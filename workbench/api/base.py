"""Shared machinery of the API v1 viewsets: system scoping, role checks, ETags and If-Match.

Order of checks on a write, the same for every resource: the system must be visible (else 404,
so another team's system looks missing), the caller's role must allow model edits (403, before
the body is even read), ``If-Match`` must name the current ETag (412), the body must be valid
(400); then exactly one service call writes, audits and bumps the version. The If-Match check
and the write share one transaction on a locked row, so two clients holding the same ETag cannot
both win.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from workbench.api.etags import check_if_match, representation_etag
from workbench.api.pagination import StableCursorPagination
from workbench.api.parsers import SafeJSONParser
from workbench.api.permissions import token_team_id
from workbench.models import System
from workbench.permissions import TeamCapability
from workbench.selectors import system_get
from workbench.services.elements import ELEMENT_SERVICES

SLUG_PATTERN = r"[-a-zA-Z0-9_]+"
SLUG_PARAMETER = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=f"^{SLUG_PATTERN}$", description="The system's slug."
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Send it back in If-Match to update or delete only this version.",
)
WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]


class SystemScopedMixin:
    """The system named by the URL's ``slug``: visible to the caller and, for a token, in its team."""

    request: Any  # a DRF Request once the view runs; Any keeps the view classes' own types intact
    kwargs: dict[str, Any]

    def get_system(self) -> System:
        cached: System | None = getattr(self, "_system", None)
        if cached is None:
            cached = system_get(
                user=self.request.user, slug=str(self.kwargs["slug"]), team_id=token_team_id(self.request)
            )
            self._system = cached
        return cached


class ElementViewSet(SystemScopedMixin, viewsets.GenericViewSet):
    """List, read, create, change (PATCH) and delete one kind of element of a system.

    Subclasses name the model and the output and input serializers; the model's services
    (``ELEMENT_SERVICES``) write, nothing here writes to the database itself.
    """

    model: ClassVar[type[models.Model]]
    input_serializer_class: ClassVar[type[BaseSerializer[Any]]]
    select_related: ClassVar[tuple[str, ...]] = ()
    prefetch_related: ClassVar[tuple[str, ...]] = ()
    http_method_names = WRITE_METHODS
    parser_classes = [SafeJSONParser]
    lookup_value_regex = r"[0-9]+"
    pagination_class = StableCursorPagination
    etag_enabled = True

    def save_element(self, *, system: System, instance: Any, data: dict[str, Any]) -> Any:
        services = ELEMENT_SERVICES[self.model]
        return services.save_instance(actor=self.request.user, system=system, instance=instance, **data)

    def delete_element(self, *, instance: Any) -> None:
        ELEMENT_SERVICES[self.model].delete_instance(actor=self.request.user, instance=instance)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no system
            return self.model._default_manager.none()
        queryset = self.model._default_manager.filter(system=self.get_system())
        return queryset.select_related(*self.select_related).prefetch_related(*self.prefetch_related)

    def _answer(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        data = self.get_serializer(instance).data
        response = Response(data, status=code)
        response["ETag"] = representation_etag(data)
        return response

    def _editable_system(self) -> System:
        """The URL's system, once the caller's role is known to allow model edits (else 403)."""
        system = self.get_system()
        system.capabilities.require(TeamCapability.EDIT_MODEL)
        return system

    def _locked_current(self, request: Request) -> Any:
        """The URL's row, locked, when ``If-Match`` names its current ETag (else 412); inside the write's
        transaction, so nobody changes it between the check and the write."""
        rows = self.model._default_manager.select_for_update().filter(system=self.get_system())
        instance = get_object_or_404(rows, pk=self.kwargs["pk"])
        check_if_match(request, representation_etag(self.get_serializer(instance).data))
        return instance

    def _input(self, data: Any, *, system: System, instance: Any = None, partial: bool = False) -> dict[str, Any]:
        serializer = self.input_serializer_class(
            instance, data=data, partial=partial, context={"system": system, "request": self.request}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self._editable_system()
        data = self._input(request.data, system=system)
        created = self.save_element(system=system, instance=None, data=data)
        response = self._answer(self.get_queryset().get(pk=created.pk), status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path}{created.pk}/")
        return response

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self._editable_system()
        with transaction.atomic():
            instance = self._locked_current(request)
            data = self._input(request.data, system=system, instance=instance, partial=True)
            self.save_element(system=system, instance=instance, data=data)
        return self._answer(self.get_queryset().get(pk=instance.pk))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._editable_system()
        with transaction.atomic():
            instance = self._locked_current(request)
            self.delete_element(instance=instance)
        return Response(status=status.HTTP_204_NO_CONTENT)
