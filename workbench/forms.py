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
from workbench.choices import CopyMode
from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone
from workbench.models.rules import DATA_KIND_VALUES, DATA_NOT_HOSTED, MODEL_KIND_VALUES, asset_field_problems
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
    """Limits every zone/asset choice to the system's own elements.

    ``defaulted`` fields (added with risk method v2) may be left out of a POST and then take the
    model default, so scripts and bookmarks that post the v1 fields keep working.
    """

    system_fields: dict[str, type[Any]] = {}
    defaulted: tuple[str, ...] = ()

    def __init__(self, *args: Any, system: System, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.system = system
        for name, model in self.system_fields.items():
            qs = model.objects.filter(system=system)
            if self.instance.pk is not None and model is type(self.instance):
                qs = qs.exclude(pk=self.instance.pk)
            self.fields[name].queryset = qs  # type: ignore[attr-defined]
        for name in self.defaulted:
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.defaulted:
            if name in data and data[name] in (None, ""):
                data[name] = self._meta.model._meta.get_field(name).get_default()
        return data

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


def _asset_choices(size: int = 6) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Asset.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": size})
    )


# Where the relation fields sit in the asset form: right after hosted_on.
_ASSET_FORM_FIELDS = [f for f in ASSET_FIELDS if f not in ("tags", "source", "external_id")]
_AFTER_HOST = _ASSET_FORM_FIELDS.index("hosted_on") + 1


# The same rule as DATA_NOT_HOSTED, worded for the form, where the remedy has a field of its own.
DATA_HOSTED_ON_FORM = "A data asset is not hosted: choose where its copies are under “stored on”."


class AssetForm(SystemScopedForm):
    """An asset with its copies (data assets) and the models it serves (endpoints).

    A multiple choice cannot order its picks, so the system of record is chosen apart; the other
    stored copies keep their stored order, new ones follow by name.
    """

    system_fields = {
        "zone": TrustZone,
        "hosted_on": Asset,
        "stored_on": Asset,
        "system_of_record": Asset,
        "loaded_on": Asset,
        "serves": Asset,
    }
    defaulted = ("instances",)
    tags = forms.CharField(required=False, help_text="Comma-separated.", max_length=1000)
    stored_on = _asset_choices()
    system_of_record = forms.ModelChoiceField(queryset=Asset.objects.none(), required=False)
    loaded_on = _asset_choices()

    class Meta:
        model = Asset
        # Tags are edited as text below; inventory keys (source, external_id) belong to sync.
        fields = [
            *_ASSET_FORM_FIELDS[:_AFTER_HOST],
            "stored_on",
            "system_of_record",
            "loaded_on",
            "serves",
            *_ASSET_FORM_FIELDS[_AFTER_HOST:],
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "serves": forms.SelectMultiple(attrs={"size": 4})}
        help_texts = {"hosted_on": "Services and agents: the machine they run on (data assets use stored on)."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        holders = self.fields["stored_on"].queryset.exclude(kind__in=sorted(DATA_KIND_VALUES))  # type: ignore[attr-defined]
        for name in ("stored_on", "system_of_record", "loaded_on"):
            self.fields[name].queryset = holders  # type: ignore[attr-defined]
        models = self.fields["serves"].queryset.filter(kind__in=sorted(MODEL_KIND_VALUES))  # type: ignore[attr-defined]
        self.fields["serves"].queryset = models  # type: ignore[attr-defined]
        self.fields["stored_on"].help_text = "Data assets: stores, hosts or people keeping a persistent copy."
        self.fields["system_of_record"].help_text = "The stored copy the others derive from (listed first)."
        self.fields["loaded_on"].help_text = "Data assets: hosts holding it decrypted in memory while in use."
        self._stored_order: list[int] = []
        if self.instance.pk is not None:
            copies = self.instance.copies.order_by("position").values_list("holder_id", "mode")
            self._stored_order = [holder for holder, mode in copies if mode == CopyMode.STORED]
            if not self.is_bound:
                self.initial["tags"] = ", ".join(self.instance.tags or [])
                self.initial["stored_on"] = self._stored_order
                self.initial["system_of_record"] = self._stored_order[0] if self._stored_order else None
                self.initial["loaded_on"] = [holder for holder, mode in copies if mode == CopyMode.LOADED]

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [tag.strip() for tag in raw.split(",") if tag.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The model's cross-field rules, run here as well: the service (and its full_clean()) is
        # reached only by a valid form, so a form with a field error shows these problems too.
        values = {**data, "hosted_on_id": getattr(data.get("hosted_on"), "pk", None)}
        for name, message in asset_field_problems(values).items():
            self.add_error(name, DATA_HOSTED_ON_FORM if message == DATA_NOT_HOSTED else message)
        record = data.pop("system_of_record", None)
        stored = list(data.get("stored_on") or [])
        if record is not None and record not in stored:
            stored.append(record)
        # The system of record first, then the copies already stored in their order, then new ones.
        rank = {pk: index for index, pk in enumerate(self._stored_order)}
        stored.sort(key=lambda asset: (asset != record, rank.get(asset.pk, len(rank)), asset.name))
        data["stored_on"] = stored
        return data


class DataFlowForm(SystemScopedForm):
    system_fields = {"source": Asset, "target": Asset, "carries": Asset}
    defaulted = ("initiator",)

    class Meta:
        model = DataFlow
        fields = [
            "name",
            "source",
            "target",
            "initiator",
            "protocol",
            "authenticated",
            "encrypted",
            "bidirectional",
            "carries",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "carries": forms.SelectMultiple(attrs={"size": 6})}
        help_texts = {
            "source": "Where the main payload comes from (the registry a host pulls weights from).",
            "target": "Where the payload goes.",
        }
        field_classes = {"carries": BoundedModelMultipleChoiceField}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") is not None and data.get("source") == data.get("target"):
            self.add_error("target", "A flow cannot go from an asset to itself.")
        return data


class AttackerProfileForm(SystemScopedForm):
    system_fields = {"entry_zones": TrustZone, "entry_assets": Asset}
    defaulted = ("actor_type",)

    class Meta:
        model = AttackerProfile
        fields = [
            "name",
            "capability",
            "actor_type",
            "attempts_per_year",
            "budget",
            "entry_zones",
            "entry_assets",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        field_classes = {
            "entry_zones": BoundedModelMultipleChoiceField,
            "entry_assets": BoundedModelMultipleChoiceField,
        }
