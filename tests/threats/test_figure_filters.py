"""The risk-figure template filters: a missing or non-numeric figure is a dash (or an empty meter)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from threats.templatetags.diagrams import probability
from threats.templatetags.humanize_money import as_float, capped, money, percent


@pytest.mark.parametrize("value", [None, "", "n/a", object()])
def test_a_figure_that_is_no_number_shows_a_dash(value: object) -> None:
    assert as_float(value) is None
    assert (money(value), percent(value), probability(value), capped(value)) == ("—", "—", "—", 0.0)


def test_numbers_in_any_form_are_read() -> None:
    assert [as_float(v) for v in (3, "0.5", Decimal("12.25"))] == [3.0, 0.5, 12.25]
    assert (money(Decimal("12345678")), percent("0.5"), probability(0.00127), capped(7)) == (
        "12.3M",
        "50%",
        "0.13%",
        1.0,
    )
