"""The element tables of the system page: one page of rows each, a name filter, and links.

A system of 500 assets and 1,500 flows used to render every row (a 900 KB page that took
longer than the diagram itself, issue 8). Each table now shows ``PAGE_SIZE`` rows; its pager
and filter are plain links and a GET form (they work without JavaScript and can be bookmarked),
and htmx swaps just that table in place when it can (``system_detail`` answers a request whose
``HX-Target`` is a table with that table's partial only). Every link keeps the state of the
other tables, so paging through flows never resets the assets' filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import QueryDict

from workbench import selectors
from workbench.models import System

PAGE_SIZE = 50
TABLE_KINDS = tuple(selectors.ELEMENT_MODELS)
NAME_MAX_LENGTH = 120


class CountedPaginator(Paginator):
    """A paginator told its count up front (the system query already counted the rows)."""

    def __init__(self, object_list: Any, per_page: int, *, known_count: int | None) -> None:
        super().__init__(object_list, per_page)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:  # type: ignore[override]  # Paginator.count is a cached_property too
        if self.known_count is not None:
            return self.known_count
        return int(super().count)


@dataclass(frozen=True)
class ElementTable:
    """One table's page of rows, its filter, and the query strings of its pager links.

    A link that leads nowhere (``previous`` on page 1, ``last`` on the last page) is None.
    """

    kind: str
    page: Page
    name: str
    total: int
    first: str | None
    previous: str | None
    next: str | None
    last: str | None
    keep: list[tuple[str, str]]

    @property
    def name_param(self) -> str:
        return f"{self.kind}_q"

    @property
    def searchable(self) -> bool:
        """Small tables need no filter; one that spans pages (or is filtered already) gets one."""
        return self.total > PAGE_SIZE or bool(self.name)

    @property
    def clear(self) -> str:
        """The query string that drops this table's filter (and page), keeping the others'."""
        return _encode(self.keep)


def _encode(pairs: list[tuple[str, str]]) -> str:
    query = QueryDict(mutable=True)
    for key, value in pairs:
        query.appendlist(key, value)
    return query.urlencode()


def element_table(*, system: System, kind: str, params: QueryDict) -> ElementTable:
    """Build one table from the page's query parameters (``<kind>_page`` and ``<kind>_q``)."""
    page_param, name_param = f"{kind}_page", f"{kind}_q"
    name = params.get(name_param, "").strip()[:NAME_MAX_LENGTH]
    counted = getattr(system, f"{kind}_count", None)  # set by selectors.system_with_counts
    total = int(counted) if counted is not None else selectors.element_table_list(system=system, kind=kind).count()
    rows = selectors.element_table_list(system=system, kind=kind, name=name)
    page = CountedPaginator(rows, PAGE_SIZE, known_count=None if name else total).get_page(params.get(page_param))
    # Other tables' parameters (and anything else on the URL, such as ?editor=off) are kept.
    keep = [(key, value) for key, values in params.lists() if key not in (page_param, name_param) for value in values]
    own = keep + ([(name_param, name)] if name else [])

    def at(number: int) -> str:
        return _encode(own + ([(page_param, str(number))] if number > 1 else []))

    return ElementTable(
        kind=kind,
        page=page,
        name=name,
        total=total,
        first=at(1) if page.has_previous() else None,
        previous=at(page.previous_page_number()) if page.has_previous() else None,
        next=at(page.next_page_number()) if page.has_next() else None,
        last=at(page.paginator.num_pages) if page.has_next() else None,
        keep=keep,
    )


def element_tables(*, system: System, params: QueryDict) -> dict[str, ElementTable]:
    """Every table of the system page, keyed by kind (``zones``, ``assets``, ``flows``, ``attackers``)."""
    return {kind: element_table(system=system, kind=kind, params=params) for kind in TABLE_KINDS}
