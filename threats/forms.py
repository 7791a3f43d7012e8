"""Forms of the threat pages. They only shape input; the services validate again and write."""

from __future__ import annotations

from typing import Any

from django import forms

from threats.models.comments import MAX_BODY


class PlainTextField(forms.CharField):
    """Text with browser line breaks (CR LF) counted as one character, as the textarea counts them."""

    def to_python(self, value: Any) -> str:
        return (super().to_python(value) or "").replace("\r\n", "\n")


class FindingCommentForm(forms.Form):
    # CharField strips by default, so a body of only spaces is "required" here and never saved.
    body = PlainTextField(
        max_length=MAX_BODY,
        label="Add a comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Plain text, up to {MAX_BODY} characters. Everyone in the team can read it.",
    )
