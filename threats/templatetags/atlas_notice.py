"""``{% atlas_notice %}``: MITRE's attribution on the pages that show ATLAS ids and names."""

from __future__ import annotations

from typing import Any

from django import template

from threats.atlas_derived import ATTRIBUTION
from threats.services.atlas import atlas_installed_version

register = template.Library()


@register.inclusion_tag("threats/_atlas_notice.html")
def atlas_notice() -> dict[str, Any]:
    """Apache-2.0 asks that the notice travel with the data; nothing is shown before ATLAS is loaded."""
    return {"version": atlas_installed_version(), "attribution": ATTRIBUTION}
