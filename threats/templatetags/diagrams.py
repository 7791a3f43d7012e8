"""The diagrams panel of the system page as an inclusion tag, so the page's own view stays as is."""

from __future__ import annotations

from typing import Any

from django import template

from threats.selectors_diagrams import diagram_panel
from threats.templatetags.humanize_money import DASH, as_float
from workbench.models import System

register = template.Library()


@register.inclusion_tag("threats/_diagrams.html")
def diagrams_panel(system: System) -> dict[str, Any]:
    """``{% diagrams_panel system %}``: the system is already scoped by the page that shows it."""
    return {"system": system, "diagrams": diagram_panel(system=system)}


@register.filter
def probability(value: object) -> str:
    """0.00127 -> '0.13%'; attack-path probabilities span many orders of magnitude."""
    p = as_float(value)
    if p is None:
        return DASH
    if p >= 0.1:
        return f"{p * 100:.0f}%"
    if p >= 1e-4:
        return f"{p * 100:.2g}%"
    return f"{p:.1e}" if p else "0"
