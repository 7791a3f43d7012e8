"""Cursor pagination for API v1 listings and sync feeds.

Cursors stay stable while rows are written between pages (an offset would skip or repeat rows),
which is what inventory clients polling ``?updated_since=`` need. A cursor that does not decode,
or whose position is not a value of the ordering column, is a 400 naming ``cursor`` rather than
DRF's 404 (or a 500 from the database for a crafted position).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, LimitOffsetPagination
from rest_framework.request import Request


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pages (the default for small listings) with both numbers bounded.

    DRF caps neither: ``?limit=10**27`` reaches the database as a LIMIT no backend accepts
    (SQLite: "datatype mismatch"; PostgreSQL: bigint out of range). ``limit`` is capped at
    1,000 and an offset past any real listing gives an empty page.
    """

    max_limit = 1000
    max_offset = 10**12

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), self.max_offset)


class StableCursorPagination(CursorPagination):
    """Oldest first by ``id``; 100 per page, ``?page_size=`` up to 1,000."""

    ordering: Any = ("id",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None
        if cursor is None or cursor.position is None:
            return cursor
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            field.to_python(cursor.position)
        except (DjangoValidationError, TypeError, ValueError):
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None
        return cursor


class FeedCursorPagination(StableCursorPagination):
    """Least recently changed first (``updated_at``, then ``id``): the order of a sync feed."""

    ordering = ("updated_at", "id")
