"""Forms for systems and their elements.

Forms only shape input; ``save`` is never called on them. Views pass ``cleaned_data`` to a
service, which validates again (the same rules serve the API and inventory sync). Choice
fields for zones and assets are limited to the system being edited, so another system's
element is "not a valid choice" before any service runs.
"""

from __future__ import annotations

from typing import Any

from django import forms

from workbench.bounds import BoundedModelMultipleChoiceField
from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone
from workbench.services.elements import ASSET_FIELDS


class SystemForm(forms.ModelForm):
    class Meta:
        model = System
        fields = ["name", "description", "risk_appetite", "currency", "review_due"]
        widgets = {
            "review_due": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Name must not be blank.")
        return name


class SystemScopedForm(forms.ModelForm):
    """Limits every zone/asset choice to the system's own elements."""

    system_fields: dict[str, type[Any]] = {}

    def __init__(self, *args: Any, system: System, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.system = system
        for name, model in self.system_fields.items():
            qs = model.objects.filter(system=system)
            if self.instance.pk is not None and model is type(self.instance):
                qs = qs.exclude(pk=self.instance.pk)
            self.fields[name].queryset = qs  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Name must not be blank.")
        return name

    def _post_clean(self) -> None:
        # Model validation happens in the service, with the system attached.
        pass


class TrustZoneForm(SystemScopedForm):
    system_fields = {"parent": TrustZone}

    class Meta:
        model = TrustZone
        fields = ["name", "trust_level", "parent", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class AssetForm(SystemScopedForm):
    system_fields = {"zone": TrustZone, "hosted_on": Asset}
    tags = forms.CharField(required=False, help_text="Comma-separated.", max_length=1000)

    class Meta:
        model = Asset
        # Tags are edited as text below; inventory keys (source, external_id) belong to sync.
        fields = [f for f in ASSET_FIELDS if f not in ("tags", "source", "external_id")]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [tag.strip() for tag in raw.split(",") if tag.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, likely, high = data.get("value_min"), data.get("value_likely"), data.get("value_max")
        if None not in (low, likely, high) and not (low <= likely <= high):  # type: ignore[operator]
            self.add_error("value_likely", "Values must satisfy minimum ≤ most likely ≤ maximum.")
        return data


class DataFlowForm(SystemScopedForm):
    system_fields = {"source": Asset, "target": Asset, "carries": Asset}

    class Meta:
        model = DataFlow
        fields = [
            "name",
            "source",
            "target",
            "protocol",
            "authenticated",
            "encrypted",
            "bidirectional",
            "carries",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "carries": forms.SelectMultiple(attrs={"size": 6})}
        field_classes = {"carries": BoundedModelMultipleChoiceField}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") is not None and data.get("source") == data.get("target"):
            self.add_error("target", "A flow cannot go from an asset to itself.")
        return data


class AttackerProfileForm(SystemScopedForm):
    system_fields = {"entry_zones": TrustZone, "entry_assets": Asset}

    class Meta:
        model = AttackerProfile
        fields = ["name", "capability", "attempts_per_year", "budget", "entry_zones", "entry_assets", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        field_classes = {
            "entry_zones": BoundedModelMultipleChoiceField,
            "entry_assets": BoundedModelMultipleChoiceField,
        }
