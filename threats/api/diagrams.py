"""API v1: a system's attack paths (JSON) and its diagrams (SVG), team-scoped like every endpoint."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from threats.selectors_diagrams import attack_paths_payload
from threats.views.diagrams import svg_response
from workbench.api.base import SystemScopedMixin


class SystemAttackPathsView(SystemScopedMixin, APIView):
    """GET: the k most probable paths per attacker profile x crown jewel, with the version they
    were computed for and whether that is the model's current version."""

    @extend_schema(operation_id="systems_attack_paths", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str, **kwargs: Any) -> Response:
        system = self.get_system()
        return Response(attack_paths_payload(system=system))


class _JsonErrors(BaseContentNegotiation):
    """Errors (401, 404, ...) are JSON whatever the Accept header; the SVG itself bypasses
    renderers, so a client asking for ``image/svg+xml`` gets it instead of a 406."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> tuple[BaseRenderer, str]:
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return None


class SystemDiagramSvgView(SystemScopedMixin, APIView):
    """GET: the SVG of the data-flow (``dfd``) or attack-path (``attack-paths``) diagram; 503 while
    it is being rendered (Retry-After) or when it could not be; ``?download=1`` for an attachment."""

    content_negotiation_class = _JsonErrors

    @extend_schema(
        operation_id="systems_diagram_svg",
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["dfd", "attack-paths"]),
            OpenApiParameter("download", str, OpenApiParameter.QUERY, description="1: send as an attachment"),
        ],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY, description="Sanitised SVG"),
            503: OpenApiResponse(description="Not rendered yet, or the render failed"),
        },
    )
    def get(self, request: Request, slug: str, kind: str, **kwargs: Any) -> HttpResponse:
        system = self.get_system()
        return svg_response(request._request, system, kind)
