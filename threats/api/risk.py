"""API v1: a system's risk summary and an explicit recompute request."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from threats.selectors_risk import risk_summary
from threats.services.recompute import enqueue_recompute
from workbench.api.base import SystemScopedMixin
from workbench.permissions import TeamCapability

SUMMARY_KEYS = (
    "version",
    "computed_version",
    "state",
    "fresh",
    "computed_at",
    "totals",
    "appetite",
    "currency",
    "over_appetite",
    "appetite_ratio",
    "heatmap",
    "extraction",
    "jewels",
    "compute",
    "seed",
    "draws",
)


class SystemRiskView(SystemScopedMixin, APIView):
    """GET: totals per view (inherent/current/projected; theft and compute), per-jewel losses with
    their best routes, compute abuse per endpoint, heat map, extraction budgets, freshness."""

    @extend_schema(summary="The system's risk summary and its freshness", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str, **kwargs: Any) -> Response:
        system = self.get_system()
        summary = risk_summary(system=system)
        return Response({key: summary[key] for key in SUMMARY_KEYS})


class SystemRecomputeView(SystemScopedMixin, APIView):
    """POST: queue a recompute of the system's findings and risk (202); viewers may not."""

    @extend_schema(summary="Queue a recompute of the system", request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str, **kwargs: Any) -> Response:
        system = self.get_system()
        if TeamCapability.REQUEST_RECOMPUTE not in system.capabilities:
            raise PermissionDenied("Viewers cannot request a recompute.")
        enqueue_recompute(system.pk)
        summary = risk_summary(system=system)
        return Response(
            {"queued": True, "version": system.version, "state": summary["state"]}, status=status.HTTP_202_ACCEPTED
        )
