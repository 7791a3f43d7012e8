"""Serializers of the mitigations API: output shapes, and inputs validated within one system.

Input serializers take the system in their context and limit every id (findings, assets, the
owner) to it, so another system's row is "does not exist" before any service runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mitigations.models import Approval, MitigationPlan, PlanComment, RiskAcceptance
from mitigations.selectors import PlanEffect
from threats.models import Control, Finding
from workbench.models import Asset, AuditEvent, System

User = get_user_model()


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="username", **kwargs)


class ApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Approval
        fields = ["id", "actor_name", "decision", "comment", "revision", "content_hash", "created_at"]


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanComment
        fields = ["id", "author_name", "body", "created_at"]
        read_only_fields = ["id", "author_name", "created_at"]


class PlanSerializer(serializers.ModelSerializer):
    control = serializers.CharField(source="control.code", read_only=True)
    control_name = serializers.CharField(source="control.name", read_only=True)
    # Null until someone holds that part (and again if the account is deleted).
    owner = UsernameField(read_only=True, allow_null=True)
    proposed_by = UsernameField(read_only=True, allow_null=True)
    edited_by = UsernameField(read_only=True, allow_null=True)
    implemented_by = UsernameField(read_only=True, allow_null=True)
    approvals = ApprovalSerializer(many=True, read_only=True)

    class Meta:
        model = MitigationPlan
        fields = [
            "id",
            "control",
            "control_name",
            "status",
            "system_wide",
            "findings",
            "assets",
            "owner",
            "due_date",
            "cost_one_off",
            "cost_yearly",
            "description",
            "evidence_links",
            "proposed_by",
            "edited_by",
            "implemented_by",
            "revision",
            "content_hash",
            "created_at",
            "updated_at",
            "status_changed_at",
            "approvals",
        ]
        read_only_fields = fields


def _pair(help_text: str) -> serializers.ListField:
    """[without the plan, with it], or null when not priced (a fresh child field per use)."""
    return serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, allow_null=True, help_text=help_text
    )


class EffectFindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="The threat's library code.")
    name = serializers.CharField()
    target = serializers.CharField()
    loss = serializers.FloatField(
        allow_null=True, help_text="Expected yearly loss of the routes through it, current view (null: not priced)."
    )


class PlanEffectSerializer(serializers.Serializer):
    """The plan's effect as the plan page shows it: the whole system with and without the plan,
    stored by the last recompute (``mitigations.selectors.plan_effects``)."""

    priced = serializers.BooleanField(
        help_text="False when the last recompute did not price it: closed (puts no control in force), not "
        "recomputed yet, or beyond the plans priced per recompute (the newest are)."
    )
    fresh = serializers.BooleanField(help_text="The figures come from a recompute of the system's current version.")
    computed_version = serializers.IntegerField(
        allow_null=True, help_text="System version the figures were computed for; null before the first recompute."
    )
    current = _pair("[without the plan, with it]: the system's expected yearly loss, current view.")
    projected = _pair("[without the plan, with it] with every other open plan in force (projected view).")
    appetite = serializers.FloatField(help_text="The system's risk appetite (yearly).")
    findings_in_scope = serializers.IntegerField(
        help_text="Applicable findings in scope that its control works against."
    )
    findings = EffectFindingSerializer(
        many=True, help_text="Those findings, largest loss first (at most 25, as the plan page lists them)."
    )


def effect_data(effect: PlanEffect, findings: list[Finding]) -> dict[str, Any]:
    """The ``effect`` object from the figures and findings the plan page renders."""
    return {
        "priced": effect.priced,
        "fresh": effect.fresh,
        "computed_version": effect.computed_version,
        "current": list(effect.current) if effect.current else None,
        "projected": list(effect.projected) if effect.projected else None,
        "appetite": effect.appetite,
        "findings_in_scope": effect.findings,
        "findings": [
            {
                "id": f.pk,
                "code": f.template.code,
                "name": f.template.name,
                "target": f.target_repr,
                "loss": f.current_mean,
            }
            for f in findings
        ],
    }


class PlanDetailSerializer(PlanSerializer):
    """One plan with its effect; ``context["effect"]`` holds ``effect_data`` (read only)."""

    effect = serializers.SerializerMethodField()

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "effect"]
        read_only_fields = fields

    @extend_schema_field(PlanEffectSerializer)
    def get_effect(self, plan: MitigationPlan) -> dict[str, Any]:
        return PlanEffectSerializer(self.context["effect"]).data


class _SystemScoped(serializers.Serializer):
    """Limits related ids to ``context["system"]``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        system: System | None = self.context.get("system")
        if system is None:  # schema generation: the querysets stay empty
            return
        for name, queryset in self.scoped_querysets(system).items():
            if name in self.fields:
                field: Any = self.fields[name]
                target: Any = getattr(field, "child_relation", field)
                target.queryset = queryset

    def scoped_querysets(self, system: System) -> dict[str, Any]:
        return {}


class PlanInputSerializer(_SystemScoped):
    """Create (``control`` required) or PATCH a plan; ``findings``/``assets`` are ids of this system.

    ``{"control": "M-RATE-QUOTA", "findings": [12], "assets": []}`` is a complete proposal: the
    owner defaults to the caller and the costs to the middle of the control's library ranges.
    """

    control = serializers.SlugRelatedField(slug_field="code", queryset=Control.objects.filter(active=True))
    findings = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Finding.objects.none())
    assets = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Asset.objects.none())
    owner = UsernameField(required=False, allow_null=True, queryset=User.objects.none())
    due_date = serializers.DateField(required=False, allow_null=True)
    cost_one_off = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    cost_yearly = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    evidence_links = serializers.ListField(child=serializers.CharField(max_length=500), required=False, max_length=20)

    def scoped_querysets(self, system: System) -> dict[str, Any]:
        return {
            "findings": Finding.objects.filter(system=system).applicable(),
            "assets": Asset.objects.filter(system=system),
            "owner": User.objects.filter(memberships__team_id=system.team_id),
        }


class PlanUpdateSerializer(PlanInputSerializer):
    """PATCH: every field optional; the control of a plan never changes (propose a new plan)."""

    control = None  # type: ignore[assignment]


MAX_REVISION = 2**31 - 1


class TransitionSerializer(serializers.Serializer):
    """Implement, verify, withdraw: `revision`, when sent, must still be the plan's revision."""

    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    evidence_links = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=20, default=list
    )
    revision = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_REVISION,
        help_text="The revision you read; a plan that has moved on answers 409 `stale_revision`.",
    )


class DecisionSerializer(TransitionSerializer):
    """Approve or reject: `revision` is required, the revision the reviewer read (from the plan)."""

    revision = serializers.IntegerField(
        min_value=1,
        max_value=MAX_REVISION,
        help_text="The plan revision you reviewed. If the plan changed since, the answer is 409 "
        "`stale_revision` with the current `revision` and nothing is decided.",
    )


class ConflictSerializer(serializers.Serializer):
    """The 409 body: the API's error shape plus the state that refused the action."""

    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`invalid_transition`, or `stale_revision` for a decision on an old revision."
    )
    status = serializers.CharField(help_text="The plan's (or acceptance's) current state.")
    revision = serializers.IntegerField(required=False, help_text="With `stale_revision`: the plan's current revision.")
    content_hash = serializers.CharField(required=False, help_text="With `stale_revision`: its current content hash.")


class AcceptanceSerializer(serializers.ModelSerializer):
    threat = serializers.CharField(source="finding.template.code", read_only=True)
    target = serializers.CharField(source="finding.target_repr", read_only=True)

    class Meta:
        model = RiskAcceptance
        fields = [
            "id",
            "finding",
            "threat",
            "target",
            "accepted_by_name",
            "justification",
            "expires_on",
            "status",
            "created_at",
            "ended_at",
            "end_reason",
            "renews",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "renews": {"help_text": "A renewal: the id of the finding's earlier (revoked or expired) acceptance."}
        }


class AcceptanceInputSerializer(_SystemScoped):
    finding = serializers.PrimaryKeyRelatedField(queryset=Finding.objects.none())
    justification = serializers.CharField(max_length=5000)
    expires_on = serializers.DateField()

    def scoped_querysets(self, system: System) -> dict[str, Any]:
        return {"finding": Finding.objects.filter(system=system)}


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "created_at",
            "actor_name",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields
