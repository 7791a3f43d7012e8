"""API v1: the control advisor of a system (what to do first, choke points, the weighted cut).

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
from workbench.api.base import SystemScopedMixin

_Money = serializers.FloatField


class AdviceStepSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Stable identifier of the action within this advice.")
    kind = serializers.ChoiceField(choices=["control", "hardening"])
    control = serializers.CharField(
        help_text="Library control to put in force (or that a hardening change amounts to)."
    )
    change = serializers.CharField(
        help_text="Hardening change ('remove_exposure', 'require_mfa', ...); '' for a control."
    )
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not DRF's Field.label
    scope = serializers.ChoiceField(choices=["assets", "system"], help_text="'system': organisation-wide.")
    asset_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Where it goes; empty for system.")
    asset_names = serializers.ListField(child=serializers.CharField())
    yearly_cost = _Money()
    one_off_cost = _Money()
    annual_cost = _Money(help_text="Yearly cost plus the one-off cost spread over amortisation_years.")
    loss_before = _Money(help_text="Projected expected annual loss before this step.")
    loss_after = _Money()
    reduction = _Money()
    reduction_per_cost = serializers.FloatField(allow_null=True, help_text="None for a free action.")
    finding_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Findings on its assets.")


class AdviceControlsSerializer(serializers.Serializer):
    loss_before = _Money()
    loss_after = _Money()
    reaches_appetite = serializers.BooleanField()
    remaining_over_appetite = _Money(help_text="What the steps leave above the appetite; 0 when reached.")
    annual_cost = _Money()
    yearly_cost = _Money()
    one_off_cost = _Money()
    steps = AdviceStepSerializer(many=True)
    not_worth_it = AdviceStepSerializer(
        many=True, help_text="The nearest misses: each alone against the final state, removing less than it costs."
    )
    candidates = serializers.IntegerField()
    evaluated = serializers.IntegerField(help_text="Loss evaluations the greedy search made.")
    step_limit_reached = serializers.BooleanField(
        help_text="The list stopped at its step or evaluation limit; more may pay."
    )
    screened_out = serializers.IntegerField(
        help_text="Candidates not scored: beyond the shortlist of those with the most route weight through them."
    )


class AdviceChokePointSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["asset", "flow"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    share = serializers.FloatField(help_text="Share of the loss-weighted best routes that pass through it.")
    routes = serializers.IntegerField()


class AdviceCutAssetSerializer(serializers.Serializer):
    asset_id = serializers.IntegerField()
    asset_name = serializers.CharField()
    action = serializers.CharField(help_text="The cheapest action that hardens it.")
    control = serializers.CharField()
    annual_cost = _Money()
    finding_ids = serializers.ListField(child=serializers.IntegerField())


class AdviceCutFlowSerializer(serializers.Serializer):
    flow_id = serializers.IntegerField()
    flow_name = serializers.CharField()
    source_id = serializers.IntegerField()
    source_name = serializers.CharField()
    target_id = serializers.IntegerField()
    target_name = serializers.CharField()
    action = serializers.CharField(
        help_text="The cheapest action placed on the flow that works against a technique on it."
    )
    control = serializers.CharField()
    annual_cost = _Money()
    finding_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Findings on the flow (a plan filed on them covers both ends)."
    )


class AdviceUnprotectedSerializer(serializers.Serializer):
    attacker_id = serializers.IntegerField()
    attacker_name = serializers.CharField()
    asset_id = serializers.IntegerField()
    asset_name = serializers.CharField()
    reason = serializers.CharField(
        help_text="Why no cut separates them (the theft needs no move, or nothing hardens it)."
    )


class AdviceCutSerializer(serializers.Serializer):
    annual_cost = _Money(help_text="What the chosen assets and flows cost a year, each action counted once.")
    assets = AdviceCutAssetSerializer(
        many=True, help_text="The assets of the cheapest set of assets and flows separating attackers from jewels."
    )
    flows = AdviceCutFlowSerializer(many=True, help_text="The flows of that set.")
    unprotected = AdviceUnprotectedSerializer(many=True)


class AdviceSerializer(serializers.Serializer):
    system = serializers.CharField()
    version = serializers.IntegerField()
    view = serializers.CharField()
    currency = serializers.CharField()
    appetite = _Money()
    amortisation_years = serializers.IntegerField()
    controls = AdviceControlsSerializer()
    choke_points = AdviceChokePointSerializer(many=True)
    cut = AdviceCutSerializer()


class SystemAdviceView(SystemScopedMixin, APIView):
    """GET: the actions that bring the projected loss toward the appetite, step by step, the
    choke points of the loss-weighted routes and the cheapest cut between attackers and jewels."""

    @extend_schema(
        responses=AdviceSerializer,
        summary="Control advisor",
        description=(
            "Greedy choice of library controls and hardening changes not yet in force (largest loss "
            "reduction per annual cost first, re-scored after each pick; never a step that removes "
            "less than it costs) on the analytic expected annual loss of the projected view, the "
            "choke points of the loss-weighted routes, and the cheapest set of assets and flows separating "
            "attackers from jewels. Computed from the current model; any team member may read it."
        ),
    )
    def get(self, request: Request, slug: str, **kwargs: Any) -> Response:
        system = self.get_system()
        return Response(AdviceSerializer(system_advice(system=system)).data)
