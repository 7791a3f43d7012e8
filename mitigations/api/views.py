"""API v1 views of the mitigations app: thin adapters that validate, call one service, serialize.

Scoping: every view starts from ``get_system`` (``workbench.api.base.SystemScopedMixin``, the
same as the modelling API: visible systems, and only the token's team for a token), so another
team's system, plan or acceptance is a 404. Roles are checked by the services
(403); a transition the workflow does not allow from the current state is a 409 that names it.
No view catches a service exception: ``workbench.api.errors`` maps them all, one shape everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from mitigations import selectors, workflow
from mitigations.api.serializers import (
    AcceptanceInputSerializer,
    AcceptanceSerializer,
    AuditEventSerializer,
    CommentSerializer,
    ConflictSerializer,
    DecisionSerializer,
    PlanDetailSerializer,
    PlanInputSerializer,
    PlanSerializer,
    PlanUpdateSerializer,
    RevokeSerializer,
    TransitionSerializer,
    effect_data,
)
from mitigations.models import AcceptanceStatus, MitigationPlan, PlanStatus, RiskAcceptance
from mitigations.services.acceptances import acceptance_create, acceptance_revoke
from mitigations.services.plans import plan_comment, plan_create, plan_delete, plan_update
from mitigations.services.transitions import plan_transition
from workbench.api.base import SystemScopedMixin
from workbench.choices import choice_or_blank
from workbench.models import AuditEvent

CONFLICT = OpenApiResponse(ConflictSerializer, description="Not allowed from the current state (named in `status`).")


def transition_doc(summary: str, request: type[TransitionSerializer] = TransitionSerializer) -> Any:
    return extend_schema(summary=summary, request=request, responses={200: PlanSerializer, 409: CONFLICT})


@extend_schema_view(
    list=extend_schema(
        summary="Mitigation plans of a system",
        parameters=[OpenApiParameter("status", str, enum=PlanStatus.values, required=False)],
    ),
    retrieve=extend_schema(
        summary="One plan with its approvals and its risk effect",
        description="`effect` is the plan page's figure: the whole system's expected yearly loss without and "
        "with the plan, current and projected views, against the appetite, as the last recompute "
        "(`computed_version`) priced it, and the findings its control works against.",
        responses=PlanDetailSerializer,
    ),
    destroy=extend_schema(summary="Delete a plan nobody has decided on", responses={204: None, 409: CONFLICT}),
)
class PlanViewSet(SystemScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Plans CRUD and the workflow actions; the URL's system scopes everything."""

    serializer_class = PlanSerializer
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[MitigationPlan]:
        wanted = choice_or_blank(self.request.query_params.get("status", ""), PlanStatus)
        plans = selectors.plan_list(system=self.get_system(), status=wanted)
        return plans.prefetch_related("findings", "assets", "approvals")

    def _plan(self) -> MitigationPlan:
        return selectors.plan_get(system=self.get_system(), pk=int(self.kwargs["pk"]))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The plan with the effect the plan page shows, read through the same selectors."""
        plan = self._plan()
        effect = effect_data(selectors.plan_effects([plan])[plan.pk], selectors.plan_effect_findings(plan=plan))
        return Response(PlanDetailSerializer(plan, context={"effect": effect}).data)

    def _out(self, plan: MitigationPlan, code: int = status.HTTP_200_OK) -> Response:
        return Response(PlanSerializer(selectors.plan_get(system=plan.system, pk=plan.pk)).data, status=code)

    @extend_schema(
        summary="Propose a plan (control code + finding and/or asset ids is enough)",
        request=PlanInputSerializer,
        responses={201: PlanSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_system()
        data = PlanInputSerializer(data=request.data, context={"system": system})
        data.is_valid(raise_exception=True)
        plan = plan_create(actor=request.user, system=system, **data.validated_data)
        return self._out(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a proposed or approved plan (an approved plan goes back to proposed)",
        request=PlanUpdateSerializer,
        responses={200: PlanSerializer, 409: CONFLICT},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self._plan()
        data = PlanUpdateSerializer(data=request.data, context={"system": plan.system}, partial=True)
        data.is_valid(raise_exception=True)
        plan = plan_update(actor=request.user, plan=plan, **data.validated_data)
        return self._out(plan)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan_delete(actor=request.user, plan=self._plan())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _transition(self, request: Request, name: str) -> Response:
        plan = self._plan()
        data = (DecisionSerializer if name in workflow.DECISIONS else TransitionSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        plan = plan_transition(actor=request.user, plan=plan, action=name, **data.validated_data)
        return self._out(plan)

    @transition_doc("Approve the revision you reviewed (risk owner or admin; never an author)", DecisionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(request, workflow.APPROVE)

    @transition_doc(
        "Reject the revision you reviewed, with a reason (risk owner or admin; never an author)", DecisionSerializer
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(request, workflow.REJECT)

    @transition_doc("Report an approved plan as implemented (editor or admin)")
    @action(detail=True, methods=["post"])
    def implement(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(request, workflow.IMPLEMENT)

    @transition_doc("Verify an implemented plan with evidence (risk owner or admin)")
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(request, workflow.VERIFY)

    @transition_doc("Withdraw a proposed or approved plan (editor or admin)")
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(request, workflow.WITHDRAW)

    @extend_schema(methods=["GET"], summary="Comments on a plan", responses={200: CommentSerializer(many=True)})
    @extend_schema(
        methods=["POST"], summary="Comment on a plan", request=CommentSerializer, responses={201: CommentSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self._plan()
        if request.method == "GET":
            return Response(CommentSerializer(plan.comments.all(), many=True).data)
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = plan_comment(actor=request.user, plan=plan, body=data.validated_data["body"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Risk acceptances of a system"),
    retrieve=extend_schema(summary="One risk acceptance"),
)
class AcceptanceViewSet(SystemScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Risk acceptances of one system; risk owners and admins accept and revoke (?status=active|expired|revoked)."""

    serializer_class = AcceptanceSerializer
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[RiskAcceptance]:
        wanted = choice_or_blank(self.request.query_params.get("status", ""), AcceptanceStatus)
        return selectors.acceptance_list(system=self.get_system(), status=wanted)

    @extend_schema(
        summary="Accept a finding's residual risk (risk owner or admin; expiry at most a year ahead)",
        request=AcceptanceInputSerializer,
        responses={201: AcceptanceSerializer, 409: CONFLICT},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_system()
        data = AcceptanceInputSerializer(data=request.data, context={"system": system})
        data.is_valid(raise_exception=True)
        acceptance = acceptance_create(actor=request.user, **data.validated_data)
        return Response(AcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="End an acceptance early; the finding is open again",
        request=RevokeSerializer,
        responses={200: AcceptanceSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        acceptance = selectors.acceptance_get(system=self.get_system(), pk=int(self.kwargs["pk"]))
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance = acceptance_revoke(actor=request.user, acceptance=acceptance, **data.validated_data)
        return Response(AcceptanceSerializer(acceptance).data)


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise ValidationError({name: "Use YYYY-MM-DD."}) from exc


@extend_schema(
    summary="The system's audit trail, newest first (read only)",
    parameters=[
        OpenApiParameter("actor", str, required=False, description="Exact username ('system' for the scheduler)."),
        OpenApiParameter("verb", str, required=False),
        OpenApiParameter("since", OpenApiTypes.DATE, required=False),
        OpenApiParameter("until", OpenApiTypes.DATE, required=False),
    ],
)
class AuditEventListView(SystemScopedMixin, generics.ListAPIView):
    """Every audit event of one system, newest first, with the hashes that chain them."""

    serializer_class = AuditEventSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[AuditEvent]:
        params = self.request.query_params
        filters = selectors.AuditFilter(
            actor=params.get("actor", "")[:150],
            verb=params.get("verb", "")[:40],
            since=_day(self.request, "since"),
            until=_day(self.request, "until"),
        )
        return selectors.audit_list(system=self.get_system(), filters=filters)
