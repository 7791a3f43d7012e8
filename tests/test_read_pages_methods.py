"""Read pages refuse POST: every page route that is not a form answers a signed-in member's POST with 405.

The routes come from the URL resolver (the ``workbench``, ``threats`` and ``mitigations``
namespaces), so a page added later is a read page, and must be decorated with ``require_safe``
(GET and HEAD: a HEAD is a GET without the body, so ``require_GET`` is not enough), unless it
is named in ``FORM_PAGES``, the short list of routes whose views
take a POST. A read page that took any method rendered itself for a POST, so a stray or forged
POST looked like success; the method check answers before the view reads anything, so made-up
ids in the URL are enough to show it.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, resolve, reverse

from tests.authz_world import url_patterns
from workbench.models import System

pytestmark = pytest.mark.django_db

APPS = ("workbench", "threats", "mitigations")

# Routes whose views take a POST (a form, or a POST-only action). Everything else is a read page.
FORM_PAGES = frozenset(
    {
        "workbench:tokens",
        "workbench:token_revoke",
        "workbench:system_new",
        "workbench:system_edit",
        "workbench:system_delete",
        "workbench:element_new",
        "workbench:element_edit",
        "workbench:element_delete",
        "threats:finding_comment",
        "threats:finding_comment_delete",
        "mitigations:webhook_edit",
        "mitigations:plan_new",
        "mitigations:plan_edit",
        "mitigations:plan_delete",
        "mitigations:plan_comment",
        "mitigations:plan_act",
        "mitigations:acceptance_new",
        "mitigations:acceptance_revoke",
    }
)

# Values tried for URL arguments other than the system's and team's slugs: an int, then a word
# that also fits the constrained groups (a diagram's ``kind``).
CANDIDATES = ("1", "dfd", "zones")


def page_routes() -> dict[str, list[str]]:
    """Every page route's namespaced name, with the names of its URL arguments."""
    routes: dict[str, list[str]] = {}
    for namespace, _regex, entry in url_patterns():
        if namespace in APPS and entry.name:
            routes[f"{namespace}:{entry.name}"] = list(entry.pattern.regex.groupindex)
    return routes


def page_url(name: str, arguments: list[str], system: System) -> str:
    """A URL of route ``name`` that resolves back to it: team A's slugs, made-up ids elsewhere."""
    fixed: dict[str, Any] = {"slug": system.slug, "team_slug": system.team.slug}
    free = [arg for arg in arguments if arg not in fixed]
    for values in product(CANDIDATES, repeat=len(free)):
        kwargs = {arg: fixed[arg] for arg in arguments if arg in fixed} | dict(zip(free, values, strict=True))
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        if resolve(url).view_name == name:
            return url
    raise AssertionError(f"no URL of {name} from {arguments}: add a candidate value")


READ_PAGES = sorted(set(page_routes()) - FORM_PAGES)


def test_form_pages_name_existing_routes_and_read_pages_remain() -> None:
    routes = set(page_routes())

    assert FORM_PAGES - routes == set(), "FORM_PAGES names routes that no longer exist: remove them"
    assert len(READ_PAGES) >= 20


@pytest.mark.parametrize("name", READ_PAGES)
def test_a_read_page_answers_post_with_405(name: str, viewer: Any, system: System) -> None:
    client = Client()
    client.force_login(viewer)
    url = page_url(name, page_routes()[name], system)

    response = client.post(url, {"anything": "1"})

    assert response.status_code == 405, f"POST {url}: {response.status_code}, want 405 (decorate with require_safe)"
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("name", READ_PAGES)
def test_a_read_page_takes_head(name: str, viewer: Any, system: System) -> None:
    client = Client()
    client.force_login(viewer)
    url = page_url(name, page_routes()[name], system)

    assert client.head(url).status_code != 405, f"HEAD {url} is refused: decorate with require_safe"
    assert client.post(url)["Allow"] == "GET, HEAD"


def test_the_health_probe_answers_get_and_head_only(db: None) -> None:
    client = Client()

    assert client.get("/healthz/").json() == {"status": "ok"}
    assert client.head("/healthz/").status_code == 200
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/healthz/")
        assert response.status_code == 405, method
        assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("name", sorted(FORM_PAGES))
def test_a_form_page_takes_post(name: str, viewer: Any, system: System) -> None:
    """The explicit list stays true: each form page's view does take a POST (405 would mean it is a read page)."""
    client = Client()
    client.force_login(viewer)
    url = page_url(name, page_routes()[name], system)

    response = client.post(url, {})

    assert response.status_code != 405, f"POST {url} is refused: move {name} out of FORM_PAGES"
