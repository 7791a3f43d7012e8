"""API v1 teams (read) and systems (CRUD): thin adapters over selectors and system services."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workbench import selectors
from workbench.api.base import ETAG_HEADER, SLUG_PATTERN, WRITE_METHODS
from workbench.api.etags import IF_MATCH, check_if_match, version_etag
from workbench.api.filters import SystemFilter
from workbench.api.inputs import SystemCreateSerializer, SystemInputSerializer
from workbench.api.pagination import StableCursorPagination
from workbench.api.parsers import SafeJSONParser
from workbench.api.permissions import token_team_id
from workbench.api.serializers import SystemDetailSerializer, SystemSummarySerializer, TeamSerializer
from workbench.models import Membership, System, Team
from workbench.permissions import TeamCapability, require
from workbench.services.systems import system_create, system_delete, system_update


@extend_schema_view(
    list=extend_schema(summary="Your teams (a token sees only its own)", tags=["teams"]),
    retrieve=extend_schema(summary="One of your teams", tags=["teams"]),
)
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams the caller belongs to, each with the caller's role in it."""

    serializer_class = TeamSerializer
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    pagination_class = StableCursorPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Team]:
        user = self.request.user
        role = Membership.objects.filter(team=OuterRef("pk"), user_id=int(user.pk or 0)).values("role")[:1]
        teams = selectors.team_list(user=user).annotate(role=Subquery(role))
        team_id = token_team_id(self.request)
        return teams.filter(pk=team_id) if team_id is not None else teams


@extend_schema_view(
    list=extend_schema(summary="Systems of your teams (a token sees only its team's)", tags=["systems"]),
    retrieve=extend_schema(
        summary="A system with its zones, assets, flows and attacker profiles",
        parameters=[ETAG_HEADER],
        tags=["systems"],
    ),
    create=extend_schema(
        summary="Create a system (editors and admins of the team)",
        request=SystemCreateSerializer,
        responses={201: SystemDetailSerializer},
        parameters=[ETAG_HEADER],
        tags=["systems"],
    ),
    partial_update=extend_schema(
        summary="Change a system's own fields; the slug never changes",
        request=SystemInputSerializer,
        responses={200: SystemDetailSerializer},
        parameters=[IF_MATCH, ETAG_HEADER],
        tags=["systems"],
    ),
    destroy=extend_schema(
        summary="Delete a system and everything in it",
        parameters=[IF_MATCH],
        responses={204: OpenApiResponse(description="The system is deleted.")},
        tags=["systems"],
    ),
)
class SystemViewSet(viewsets.GenericViewSet):
    """Systems visible to the caller; the ETag is the system's version, bumped by every change."""

    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    serializer_class = SystemSummarySerializer
    filterset_class = SystemFilter
    pagination_class = StableCursorPagination
    http_method_names = WRITE_METHODS
    parser_classes = [SafeJSONParser]
    etag_enabled = True

    def get_queryset(self) -> QuerySet[System]:
        return selectors.system_list(user=self.request.user, team_id=token_team_id(self.request))

    def _detail(self, slug: str, code: int = status.HTTP_200_OK) -> Response:
        system = selectors.system_with_elements(user=self.request.user, slug=slug, team_id=token_team_id(self.request))
        response = Response(SystemDetailSerializer(system, context={"request": self.request}).data, status=code)
        response["ETag"] = version_etag(system.version)
        return response

    def _for_write(self, slug: str) -> System:
        """The visible system, locked, after the role and If-Match checks."""
        system = selectors.system_get(user=self.request.user, slug=slug, team_id=token_team_id(self.request))
        system.capabilities.require(TeamCapability.EDIT_MODEL)
        # The system row only, and NO KEY: rows that merely reference it (audit events, plan
        # comments) are still written meanwhile; locking the team too deadlocked them (issue 13.6).
        locked = System.objects.select_for_update(no_key=True, of=("self",)).select_related("team").get(pk=system.pk)
        check_if_match(self.request, version_etag(locked.version))
        return locked

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(str(kwargs["slug"]))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        context = {"request": request, "token_team_id": token_team_id(request)}
        serializer = SystemCreateSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        team = data.pop("team")
        require(request.user, team, TeamCapability.EDIT_MODEL)
        system = system_create(actor=request.user, team=team, **data)
        response = self._detail(system.slug, status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path}{system.slug}/")
        return response

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            system = self._for_write(str(kwargs["slug"]))
            serializer = SystemInputSerializer(system, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            system_update(actor=request.user, system=system, **serializer.validated_data)
        return self._detail(system.slug)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            system_delete(actor=request.user, system=self._for_write(str(kwargs["slug"])))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CachedSchemaView(SpectacularAPIView):
    """The OpenAPI document, generated once per process and API version.

    It changes only with the code, and generating it costs a few hundred milliseconds of CPU,
    which an endpoint open to anonymous callers should not spend on every request. Requests for
    a translation (``?lang=``) are generated each time, so they cannot fill the cache.
    """

    _documents: ClassVar[dict[str | None, Any]] = {}

    def _get_schema_response(self, request: Request) -> Response:
        if request.GET.get("lang"):
            return super()._get_schema_response(request)
        version = self.api_version or request.version or self._get_version_parameter(request)
        if version not in self._documents:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            self._documents[version] = generator.get_schema(request=request, public=self.serve_public)
        filename = self._get_filename(request, version)
        return Response(self._documents[version], headers={"Content-Disposition": f'inline; filename="{filename}"'})


@extend_schema(exclude=True)
class UnknownEndpointView(APIView):
    """Anything else under /api/v1/: a JSON 404 in the API's error shape, not the HTML page."""

    permission_classes = [AllowAny]

    def http_method_not_allowed(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        raise NotFound("No such endpoint in API v1.")

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotFound("No such endpoint in API v1.")

    post = put = patch = delete = head = options = get
