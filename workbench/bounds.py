"""Integers the database can hold, checked where input arrives, before any query runs.

Python integers have no limit, but every id and integer column is a signed 64-bit number. Sent
in a query, ``10**20`` is an ``OverflowError`` in SQLite's driver (a 500) and a numeric
comparison or "bigint out of range" on PostgreSQL, so a filter, a form's multiple choice or a
layout save would answer differently per database, or fail. The form fields here refuse such
numbers as invalid input (issue 13, point 6), which pages show as form errors and the API as 400.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


class BoundedIntegerField(forms.IntegerField):
    """An integer within the signed 64-bit range unless narrower bounds are given."""

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs: Any) -> None:
        super().__init__(
            min_value=INT64_MIN if min_value is None else min_value,
            max_value=INT64_MAX if max_value is None else max_value,
            **kwargs,
        )


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's multiple choice, with a number too large for an id an invalid choice.

    Django checks each value by building a query (a ``ValueError`` there is "not a valid
    value") but only runs the query that looks them up afterwards, where an out-of-range
    number fails inside the database driver instead.
    """

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else ():
            try:
                number = int(str(pk).strip())
            except ValueError:
                continue  # not a number: Django's own check names it
            if not fits_int64(number):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super().clean(value)
