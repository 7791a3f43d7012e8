"""Template filters for risk figures: short money amounts and percentages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def money(value: object) -> str:
    """12_345_678 -> '12.3M'; amounts are estimates, so three significant figures are enough."""
    try:
        amount = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= limit:
            return f"{amount / limit:.3g}{suffix}"
    return f"{amount:.3g}" if amount else "0"


@register.filter
def percent(value: object) -> str:
    try:
        return f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"


@register.filter
def capped(value: object) -> float:
    """A ratio clamped to [0, 1] for <meter>."""
    try:
        return max(0.0, min(1.0, float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
