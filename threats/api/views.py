"""API v1 views for the library (any signed-in user) and a system's findings (team-scoped)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import generics, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from threats import selectors
from threats.api.serializers import ControlSerializer, FindingDetailSerializer, FindingSerializer, ThreatSerializer
from threats.models import Control, Finding, ThreatTemplate
from threats.models.findings import FindingStatus
from threats.selectors_explain import finding_explanations
from workbench.api.base import SystemScopedMixin


class ThreatViewSet(viewsets.ReadOnlyModelViewSet):
    """The active threat library; filter with ?stride=I&tactic=AML.TA0010&kind=object_store."""

    serializer_class = ThreatSerializer
    lookup_field = "code"
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if self.action == "list":
            params = self.request.query_params
            return selectors.threat_list(
                filters=selectors.ThreatFilter(
                    stride=params.get("stride", "")[:1],
                    tactic=params.get("tactic", "")[:20],
                    asset_kind=params.get("kind", "")[:40],
                )
            )
        return ThreatTemplate.objects.filter(active=True).prefetch_related("control_links__control")


class ControlViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ControlSerializer
    lookup_field = "code"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Control]:
        return selectors.control_list()


class FindingListView(SystemScopedMixin, generics.ListAPIView):
    """Findings of one visible system; ?status=open|mitigated|accepted|not_applicable."""

    serializer_class = FindingSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Finding]:
        system = self.get_system()
        status = self.request.query_params.get("status", "")
        return selectors.finding_list(system=system, status=status if status in FindingStatus.values else "")


class FindingDetailView(SystemScopedMixin, generics.RetrieveAPIView):
    """One finding of a visible system with every view's explanation (computed on request for
    findings the recompute did not expand; ``explanation_state`` says when it must wait)."""

    serializer_class = FindingDetailSerializer
    filter_backends: list[Any] = []

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        finding = selectors.finding_of(system=self.get_system(), pk=self.kwargs["pk"])
        explanations = finding_explanations(finding=finding) if finding.risk else {}
        context = {**self.get_serializer_context(), "explanations": explanations}
        return Response(FindingDetailSerializer(finding, context=context).data)
