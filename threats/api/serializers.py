"""Output serializers for the library and findings (API v1, read side)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from threats.models import Control, Finding, ThreatControl, ThreatTemplate
from threats.models.findings import RISK_FIELDS


class ThreatControlSerializer(serializers.ModelSerializer):
    control = serializers.CharField(source="control.code")
    effectiveness_by_oc = serializers.ListField(
        child=serializers.FloatField(), help_text="Effectiveness against OC1..OC5 (decayed above the control's level)."
    )

    class Meta:
        model = ThreatControl
        fields = ["control", "effectiveness", "effectiveness_by_oc", "on", "evidence_source", "evidence_figure"]


class RandVectorSerializer(serializers.Serializer[dict[str, str]]):
    category = serializers.CharField()
    vector = serializers.CharField()


class ThreatSerializer(serializers.ModelSerializer):
    controls = ThreatControlSerializer(source="control_links", many=True, read_only=True)
    stride = serializers.ListField(source="stride_letters", child=serializers.CharField())
    rand_vectors = RandVectorSerializer(many=True, read_only=True)
    actors = serializers.ListField(child=serializers.CharField(), help_text="Actor types that can realise it.")
    positions = serializers.ListField(child=serializers.CharField(), help_text="Where the attacker must stand.")
    boosts = serializers.ListField(child=serializers.CharField(), help_text="Enablers: the techniques they boost.")

    class Meta:
        model = ThreatTemplate
        fields = [
            "code",
            "name",
            "description",
            "stride",
            "atlas_ids",
            "owasp_ids",
            "rand_vectors",
            "role",
            "actors",
            "positions",
            "loss_form",
            "loss_yields",
            "loss_value",
            "loss_fraction",
            "query_goal",
            "boosts",
            "boost",
            "target",
            "asset_kinds",
            "rule",
            "base_probability",
            "controls",
            "library_version",
        ]


class ControlSerializer(serializers.ModelSerializer):
    threats = serializers.SerializerMethodField()

    class Meta:
        model = Control
        fields = [
            "code",
            "name",
            "description",
            "type",
            "cost_one_off_min",
            "cost_one_off_max",
            "cost_yearly_min",
            "cost_yearly_max",
            "atlas_mitigation_ids",
            "rand_sl",
            "capability_decay",
            "pricing",
            "flows",
            "asset_kinds",
            "threats",
            "library_version",
        ]

    @extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}})
    def get_threats(self, control: Control) -> list[dict[str, object]]:
        return [
            {"threat": link.threat.code, "effectiveness": str(link.effectiveness), "on": link.on}
            for link in control.threat_links.all()
        ]


class FindingSerializer(serializers.ModelSerializer):
    threat = serializers.CharField(source="template.code")
    threat_name = serializers.CharField(source="template.name")

    class Meta:
        model = Finding
        fields = [
            "id",
            "threat",
            "threat_name",
            "target_type",
            "target_key",
            "target_repr",
            "asset",
            "flow",
            "status",
            "explanation",
            "computed_version",
            "closed_version",
            "first_seen_at",
            "updated_at",
            *RISK_FIELDS,
        ]


class FindingDetailSerializer(FindingSerializer):
    """A finding with every view's explanation: stored for the largest findings, computed on
    request for the others (``threats.selectors_explain``). ``risk`` in lists carries the
    figures, and the explanations of the largest findings only."""

    risk = serializers.SerializerMethodField()
    explanation_state = serializers.SerializerMethodField()

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "explanation_state"]

    def _explanations(self, finding: Finding) -> dict[str, dict[str, Any]] | None:
        """The view computes them once (``finding_explanations``) and passes them in the context."""
        explanations: dict[str, dict[str, Any]] | None = self.context.get("explanations", {})
        return explanations

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "object"}})
    def get_risk(self, finding: Finding) -> dict[str, Any]:
        explanations = self._explanations(finding) or {}
        return {
            view: {**figures, "explanation": explanations[view]} if view in explanations else figures
            for view, figures in (finding.risk or {}).items()
        }

    @extend_schema_field({"type": "string", "enum": ["explained", "recomputing", "not_priced"]})
    def get_explanation_state(self, finding: Finding) -> str:
        """``recomputing``: the results are behind the model; ask again when they are fresh."""
        if not finding.risk:
            return "not_priced"
        return "recomputing" if self._explanations(finding) is None else "explained"
