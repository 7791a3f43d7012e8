"""Forms of the mitigation pages. They only shape input; services validate again and write.

Choices for findings, assets and the owner are limited to the system (and its team), so another
system's row is "not a valid choice" before a service runs. Evidence links are typed one per line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from mitigations import workflow
from mitigations.services.acceptances import MAX_DAYS
from threats.models import Control, Finding
from workbench.models import Asset, System


class LinesField(forms.CharField):
    """A textarea whose non-blank lines become a list of strings."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in str(text).splitlines() if line.strip()]

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list | tuple) else value


class FindingChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.template.code} on {obj.target_repr}"


class PlanForm(forms.Form):
    control = forms.ModelChoiceField(
        queryset=Control.objects.filter(active=True).order_by("code"), to_field_name="code"
    )
    findings = FindingChoice(
        queryset=Finding.objects.none(),
        required=False,
        help_text="Leave findings and assets empty for a system-wide plan.",
    )
    assets = forms.ModelMultipleChoiceField(queryset=Asset.objects.none(), required=False)
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, help_text="Defaults to you."
    )
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cost_one_off = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, help_text="Blank: the library's mid-range."
    )
    cost_yearly = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, help_text="Blank: the library's mid-range."
    )
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    evidence_links = LinesField(required=False, max_length=11000, help_text="One http(s) link per line.")

    def __init__(self, *args: Any, system: System, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.system = system
        self.fields["findings"].queryset = (  # type: ignore[attr-defined]
            Finding.objects.filter(system=system)
            .applicable()
            .select_related("template")
            .order_by("template__code", "target_repr")
        )
        self.fields["assets"].queryset = Asset.objects.filter(system=system).order_by("name")  # type: ignore[attr-defined]
        self.fields["owner"].queryset = (  # type: ignore[attr-defined]
            get_user_model().objects.filter(memberships__team_id=system.team_id).order_by("username")
        )

    def service_kwargs(self) -> dict[str, Any]:
        """cleaned_data without blanks, so the service's defaults (owner, costs) apply."""
        data = dict(self.cleaned_data)
        for name in ("owner", "cost_one_off", "cost_yearly", "due_date"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class PlanEditForm(PlanForm):
    """Everything but the control: a different control is a different plan."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["control"]
        for name in ("cost_one_off", "cost_yearly"):
            self.fields[name].required = True
            self.fields[name].help_text = ""

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        return data


MAX_REVISION = 2**31 - 1  # the column's range: a bigger number is a form error, not a 500


class TransitionForm(forms.Form):
    """A workflow action; ``revision`` (a hidden field) is the revision the page showed."""

    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    evidence_links = LinesField(required=False, max_length=11000)
    revision = forms.IntegerField(required=False, min_value=1, max_value=MAX_REVISION, widget=forms.HiddenInput)

    def __init__(self, *args: Any, action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if action in workflow.DECISIONS:  # approve and reject bind to the revision reviewed
            self.fields["revision"].required = True
            self.fields["revision"].error_messages["required"] = "Say which revision you reviewed (revision)."


class CommentForm(forms.Form):
    body = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Comment")


class AcceptanceForm(forms.Form):
    justification = forms.CharField(
        max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), help_text="Why this residual risk is tolerable."
    )
    expires_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text=f"At most {MAX_DAYS} days ahead."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + timedelta(days=90)


class RevokeForm(forms.Form):
    reason = forms.CharField(required=False, max_length=200)


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="Endpoint URL", assume_scheme="https")
    active = forms.BooleanField(required=False, initial=True)
    rotate_secret = forms.BooleanField(required=False, label="Generate a new secret")


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False)
    verb = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, actors: list[str], verbs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Anyone"), *((a, a) for a in actors)]  # type: ignore[attr-defined]
        self.fields["verb"].choices = [("", "Any action"), *((v, v) for v in verbs)]  # type: ignore[attr-defined]
