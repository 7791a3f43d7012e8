"""API v1 views for systems; thin adapters over selectors."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from workbench import selectors
from workbench.api.permissions import token_team_id
from workbench.api.serializers import SystemDetailSerializer, SystemListSerializer
from workbench.models import System


class SystemViewSet(viewsets.ReadOnlyModelViewSet):
    """Systems visible to the caller; a token sees only its own team's systems."""

    lookup_field = "slug"
    serializer_class = SystemListSerializer
    filterset_fields = ["team__slug"]

    def get_queryset(self) -> QuerySet[System]:
        return selectors.system_list(user=self.request.user, team_id=token_team_id(self.request))

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        system = selectors.system_with_elements(
            user=request.user, slug=str(kwargs["slug"]), team_id=token_team_id(request)
        )
        return Response(SystemDetailSerializer(system, context={"request": request}).data)
