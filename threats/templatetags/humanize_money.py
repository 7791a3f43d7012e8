"""Template filters for risk figures: short money amounts and percentages."""

from __future__ import annotations

from django import template

register = template.Library()

DASH = "—"  # what a missing or non-numeric figure shows


def as_float(value: object) -> float | None:
    """The figure as a float, or None when it is missing or not a number (every filter shows a dash then)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@register.filter
def money(value: object) -> str:
    """12_345_678 -> '12.3M'; amounts are estimates, so three significant figures are enough."""
    amount = as_float(value)
    if amount is None:
        return DASH
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= limit:
            return f"{amount / limit:.3g}{suffix}"
    return f"{amount:.3g}" if amount else "0"


@register.filter
def percent(value: object) -> str:
    ratio = as_float(value)
    return DASH if ratio is None else f"{ratio * 100:.0f}%"


@register.filter
def capped(value: object) -> float:
    """A ratio clamped to [0, 1] for <meter>."""
    ratio = as_float(value)
    return 0.0 if ratio is None else max(0.0, min(1.0, ratio))
