"""API v1 elements of a system, nested under it: ``/systems/{slug}/zones|assets|flows|attackers/``.

Nesting (rather than flat routes with a ``?system=`` filter) makes the URL carry the scope: a
request cannot name an element without naming its system, so the team check happens once, on
the system, and another team's element is a 404 like a missing one. Each viewset only wires a
model to its serializers; the base writes through the model's element services.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from workbench.api.base import ETAG_HEADER, SLUG_PARAMETER, ElementViewSet
from workbench.api.etags import IF_MATCH
from workbench.api.filters import AssetFilter, AttackerProfileFilter, DataFlowFilter, TrustZoneFilter
from workbench.api.inputs import (
    AssetInputSerializer,
    AttackerProfileInputSerializer,
    DataFlowInputSerializer,
    TrustZoneInputSerializer,
)
from workbench.api.pagination import FeedCursorPagination
from workbench.api.serializers import (
    AssetSerializer,
    AttackerProfileSerializer,
    DataFlowSerializer,
    TrustZoneSerializer,
)
from workbench.models import Asset, AttackerProfile, DataFlow, TrustZone


def element_schema(noun: str, output: type[Any], input_: type[Any], tag: str) -> Any:
    """The OpenAPI description shared by the four element viewsets."""
    deleted = OpenApiResponse(description=f"The {noun} is deleted.")
    return extend_schema_view(
        list=extend_schema(summary=f"List the system's {noun}s", parameters=[SLUG_PARAMETER], tags=[tag]),
        retrieve=extend_schema(summary=f"One {noun}", parameters=[SLUG_PARAMETER, ETAG_HEADER], tags=[tag]),
        create=extend_schema(
            summary=f"Add a {noun} (editors and admins)",
            parameters=[SLUG_PARAMETER, ETAG_HEADER],
            request=input_,
            responses={201: output},
            tags=[tag],
        ),
        partial_update=extend_schema(
            summary=f"Change a {noun}; send If-Match to refuse a lost update",
            parameters=[SLUG_PARAMETER, IF_MATCH, ETAG_HEADER],
            request=input_,
            responses={200: output},
            tags=[tag],
        ),
        destroy=extend_schema(
            summary=f"Delete a {noun}",
            parameters=[SLUG_PARAMETER, IF_MATCH],
            responses={204: deleted},
            tags=[tag],
        ),
    )


@element_schema("trust zone", TrustZoneSerializer, TrustZoneInputSerializer, "zones")
class TrustZoneViewSet(ElementViewSet):
    """Trust zones; deleting one leaves its assets unzoned."""

    model = TrustZone
    serializer_class = TrustZoneSerializer
    input_serializer_class = TrustZoneInputSerializer
    filterset_class = TrustZoneFilter


@element_schema("asset", AssetSerializer, AssetInputSerializer, "assets")
class AssetViewSet(ElementViewSet):
    """Assets, least recently changed first, so ``?updated_since=`` plus the cursor is a sync feed."""

    model = Asset
    serializer_class = AssetSerializer
    input_serializer_class = AssetInputSerializer
    filterset_class = AssetFilter
    pagination_class = FeedCursorPagination
    prefetch_related = ("copies", "serves")


@element_schema("data flow", DataFlowSerializer, DataFlowInputSerializer, "flows")
class DataFlowViewSet(ElementViewSet):
    """Data flows between two assets of the system; ``crosses_zones`` is derived."""

    model = DataFlow
    serializer_class = DataFlowSerializer
    input_serializer_class = DataFlowInputSerializer
    filterset_class = DataFlowFilter
    pagination_class = FeedCursorPagination
    select_related = ("source", "target")
    prefetch_related = ("carries",)


@element_schema("attacker profile", AttackerProfileSerializer, AttackerProfileInputSerializer, "attackers")
class AttackerProfileViewSet(ElementViewSet):
    """Attacker profiles with their entry zones and assets."""

    model = AttackerProfile
    serializer_class = AttackerProfileSerializer
    input_serializer_class = AttackerProfileInputSerializer
    filterset_class = AttackerProfileFilter
    prefetch_related = ("entry_zones", "entry_assets")
