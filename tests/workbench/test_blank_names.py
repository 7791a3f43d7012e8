"""An element named only with white space is refused by its own ``clean()``, whatever its kind."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from workbench.models import Asset, AttackerProfile, DataFlow, TrustZone
from workbench.models.elements import blank_name_errors


def test_only_a_blank_name_is_an_error() -> None:
    assert blank_name_errors("  \t") == {"name": "Name must not be blank."}
    assert blank_name_errors("DMZ") == {}
    assert blank_name_errors(None) == {}  # the field's own null check speaks then


@pytest.mark.parametrize("model", [TrustZone, Asset, DataFlow, AttackerProfile])
def test_every_element_refuses_a_blank_name(model: type) -> None:
    with pytest.raises(ValidationError) as caught:
        model(name="   ").clean()
    assert caught.value.message_dict["name"] == ["Name must not be blank."]
