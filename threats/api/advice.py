"""API v1: the control advisor of a system (controls to add, flows to harden first).

The output serializers render the service's dict, so the documented schema is the response
itself rather than a description beside it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from threats.services.advice import system_advice
from workbench.api.permissions import token_team_id
from workbench.selectors import system_get

_Money = serializers.FloatField


class AdviceFindingSerializer(serializers.Serializer):
    finding_id = serializers.IntegerField(allow_null=True, help_text="None until a recompute stored the finding.")
    threat = serializers.CharField()
    target_type = serializers.ChoiceField(choices=["asset", "flow"])
    target_id = serializers.IntegerField()
    target_name = serializers.CharField()
    loss_before = _Money()
    loss_after = _Money()


class AdviceStepSerializer(serializers.Serializer):
    control = serializers.CharField(help_text="Library control code to put in force.")
    control_name = serializers.CharField()
    scope = serializers.ChoiceField(choices=["assets", "system"], help_text="'system': organisation-wide.")
    asset_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Where it goes; empty for system.")
    asset_names = serializers.ListField(child=serializers.CharField())
    yearly_cost = _Money()
    one_off_cost = _Money()
    annual_cost = _Money(help_text="Yearly cost plus the one-off cost spread over amortisation_years.")
    loss_before = _Money(help_text="Projected expected annual loss before this step.")
    loss_after = _Money()
    reduction = _Money()
    reduction_per_cost = serializers.FloatField(allow_null=True, help_text="None for a free control.")
    finding_ids = serializers.ListField(child=serializers.IntegerField())
    findings = AdviceFindingSerializer(many=True)


class AdviceControlsSerializer(serializers.Serializer):
    loss_before = _Money()
    loss_after = _Money()
    reaches_appetite = serializers.BooleanField()
    annual_cost = _Money()
    yearly_cost = _Money()
    one_off_cost = _Money()
    steps = AdviceStepSerializer(many=True)


class AdvicePathSerializer(serializers.Serializer):
    attacker_id = serializers.IntegerField()
    attacker_name = serializers.CharField()
    target_id = serializers.IntegerField()
    target_name = serializers.CharField()
    probability = serializers.FloatField()
    from_internet = serializers.BooleanField()
    asset_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Assets crossed, entry first.")
    node_names = serializers.ListField(child=serializers.CharField())
    flow_ids = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), help_text="Flow of each move; None off a flow."
    )


class AdviceCutFlowSerializer(serializers.Serializer):
    flow_id = serializers.IntegerField()
    flow_name = serializers.CharField()
    source_id = serializers.IntegerField()
    source_name = serializers.CharField()
    target_id = serializers.IntegerField()
    target_name = serializers.CharField()
    asset_ids = serializers.ListField(child=serializers.IntegerField())
    finding_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Findings on this flow.")
    paths = AdvicePathSerializer(many=True, help_text="Most probable paths to a crown jewel that cross it.")


class AdviceUnprotectedSerializer(serializers.Serializer):
    attacker_id = serializers.IntegerField()
    attacker_name = serializers.CharField()
    asset_id = serializers.IntegerField()
    asset_name = serializers.CharField()
    reason = serializers.ChoiceField(choices=["entry", "no_flow"])


class AdviceFlowsSerializer(serializers.Serializer):
    crown_jewel_ids = serializers.ListField(child=serializers.IntegerField())
    cut = AdviceCutFlowSerializer(many=True, help_text="Minimum set of flows to harden first.")
    unprotected = AdviceUnprotectedSerializer(many=True, help_text="Jewels that no flow cut protects.")


class AdviceSerializer(serializers.Serializer):
    system = serializers.CharField()
    version = serializers.IntegerField()
    view = serializers.CharField()
    currency = serializers.CharField()
    appetite = _Money()
    amortisation_years = serializers.IntegerField()
    controls = AdviceControlsSerializer()
    flows = AdviceFlowsSerializer()


class SystemAdviceView(APIView):
    """GET: the cheapest controls that bring the projected loss under the appetite, step by step,
    and the minimum set of flows whose hardening cuts every attacker from the crown jewels."""

    @extend_schema(
        responses=AdviceSerializer,
        summary="Control advisor",
        description=(
            "Greedy choice of library controls not yet in force (largest loss reduction per annual "
            "cost first, re-scored after each pick) on the analytic expected annual loss of the "
            "projected view, and a minimum flow cut between attacker entry points and crown jewels. "
            "Computed from the current model; any team member may read it."
        ),
    )
    def get(self, request: Request, slug: str, **kwargs: Any) -> Response:
        system = system_get(user=request.user, slug=slug, team_id=token_team_id(request))
        return Response(AdviceSerializer(system_advice(system=system)).data)
