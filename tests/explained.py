"""A finding's risk views as its page shows them: figures plus the explanation, stored or
computed on request (``threats.selectors_explain``)."""

from __future__ import annotations

from typing import Any

from threats.models import Finding
from threats.selectors_explain import finding_explanations


def explained(finding: Finding) -> dict[str, dict[str, Any]]:
    """view -> figures with their ``explanation``; fails when the results are behind the model."""
    explanations = finding_explanations(finding=finding)
    assert explanations is not None, "results are behind the model: no explanation for this version"
    return {view: {**figures, "explanation": explanations[view]} for view, figures in (finding.risk or {}).items()}
