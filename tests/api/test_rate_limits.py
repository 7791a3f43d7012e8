"""Rate limits that hold (issue 13, point 4): budgets per user, the expensive reads' own budget,
``X-Forwarded-For`` trusted only behind configured proxies, and lockout of password spraying."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.api.test_api_errors import shape
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test user's password


def _rates(settings: Any, **rates: str) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_a_users_tokens_and_session_share_one_budget(settings, editor, system):
    _rates(settings, user="4/minute", expensive="100/minute", anon="100/minute")
    first, second = client_for(editor, "token"), client_for(editor, "token")
    session = client_for(editor, "session")

    statuses = [client.get("/api/v1/systems/").status_code for client in (first, second, session, second)]
    refused = [client.get("/api/v1/systems/") for client in (first, second, session)]

    assert statuses == [200, 200, 200, 200]
    assert [answer.status_code for answer in refused] == [429, 429, 429]
    assert shape(refused[0])["code"] == "throttled"
    assert int(refused[0]["Retry-After"]) > 0


def test_another_user_keeps_their_own_budget(settings, editor, owner, system):
    _rates(settings, user="2/minute", expensive="100/minute", anon="100/minute")
    editor_client, owner_client = client_for(editor, "token"), client_for(owner, "token")

    editor_statuses = [editor_client.get("/api/v1/systems/").status_code for _ in range(3)]

    assert editor_statuses == [200, 200, 429]
    assert owner_client.get("/api/v1/systems/").status_code == 200


def test_expensive_reads_have_their_own_per_user_budget_in_the_api_and_on_pages(settings, editor, elements):
    _rates(settings, user="100/minute", expensive="3/minute", anon="100/minute")
    slug = elements.system.slug
    first, second = client_for(editor, "token"), client_for(editor, "session")
    page = Client()
    page.force_login(editor)

    graph = [first.get(f"/api/v1/systems/{slug}/graph/").status_code for _ in range(2)]
    versions = [first.get(f"/api/v1/systems/{slug}/version/").status_code for _ in range(5)]
    paths = second.get(f"/api/v1/systems/{slug}/attack-paths/")
    refused_api = second.get(f"/api/v1/systems/{slug}/diagrams/dfd.svg")
    refused_page = page.get(f"/systems/{slug}/advice/")
    refused_diagram = page.get(f"/systems/{slug}/diagrams/dfd.svg")

    assert graph == [200, 200]
    assert versions == [200] * 5  # cheap reads are not counted in the expensive budget
    assert paths.status_code == 200, paths.content
    assert refused_api.status_code == 429
    assert shape(refused_api)["code"] == "throttled"
    assert refused_page.status_code == refused_diagram.status_code == 429
    assert int(refused_page["Retry-After"]) > 0
    assert first.get(f"/api/v1/systems/{slug}/assets/").status_code == 200


def test_the_expensive_budget_of_one_user_leaves_anothers_alone(settings, editor, owner, elements):
    _rates(settings, user="100/minute", expensive="1/minute", anon="100/minute")
    url = f"/api/v1/systems/{elements.system.slug}/graph/"
    editor_client, owner_client = client_for(editor, "token"), client_for(owner, "token")

    statuses = [editor_client.get(url).status_code for _ in range(2)]

    assert statuses == [200, 429]
    assert owner_client.get(url).status_code == 200


def _anonymous_statuses(headers: list[str]) -> list[int]:
    client = APIClient()
    return [client.get("/api/v1/no-such-thing/", HTTP_X_FORWARDED_FOR=value).status_code for value in headers]


def test_a_spoofed_forwarded_for_is_ignored_without_trusted_proxies(settings):
    _rates(settings, user="100/minute", expensive="100/minute", anon="2/minute")
    settings.TRUSTED_PROXY_COUNT = 0

    statuses = _anonymous_statuses(["198.51.100.1", "198.51.100.2", "198.51.100.3", "anything"])

    assert statuses == [404, 404, 429, 429]


def test_the_forwarded_for_of_one_trusted_proxy_names_the_client(settings):
    _rates(settings, user="100/minute", expensive="100/minute", anon="2/minute")
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote the left part; our proxy appended the address it saw on the right.
    same_client = ["10.0.0.1, 203.0.113.7", "10.0.0.2, 203.0.113.7", "forged, 203.0.113.7"]

    statuses = _anonymous_statuses([*same_client, "203.0.113.8"])

    assert statuses == [404, 404, 429, 404]


@pytest.mark.parametrize(
    ("proxies", "header", "expected"),
    [
        (0, "203.0.113.7", "192.0.2.10"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        (2, "203.0.113.7", "192.0.2.10"),  # fewer hops than proxies: not what our proxies wrote
        (1, "not-an-address", "192.0.2.10"),
        (1, "", "192.0.2.10"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_takes_the_nth_address_from_the_right(settings, proxies, header, expected):
    from workbench.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=header)

    assert client_ip(request) == expected


def _login(client: Client, username: str, password: str, **headers: str) -> int:
    response = client.post("/accounts/login/", {"username": username, "password": password}, **headers)
    return response.status_code


def test_password_spraying_from_one_address_is_locked_out(settings):
    settings.AXES_FAILURE_LIMIT = 10
    settings.AXES_ADDRESS_FAILURE_LIMIT = 20
    victim = UserFactory(username="victim")
    victim.set_password(PASSWORD)
    victim.save()
    client = Client(REMOTE_ADDR="198.51.100.66")

    sprayed = [_login(client, f"user{n}", "Winter2026!") for n in range(19)]
    before_limit = _login(client, "victim", PASSWORD)
    _login(Client(REMOTE_ADDR="198.51.100.66"), "user19", "Winter2026!")
    _login(Client(REMOTE_ADDR="198.51.100.66"), "user20", "Winter2026!")
    locked = _login(Client(REMOTE_ADDR="198.51.100.66"), "victim", PASSWORD)
    elsewhere = _login(Client(REMOTE_ADDR="198.51.100.67"), "victim", PASSWORD)

    assert sprayed == [200] * 19  # the login form again, with its error
    assert before_limit == 302  # 19 failures: not locked yet
    assert locked == 429
    assert elsewhere == 302


def test_one_username_locks_at_the_pair_limit_and_the_address_at_its_own(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_ADDRESS_FAILURE_LIMIT = 5
    victim = UserFactory(username="victim")
    victim.set_password(PASSWORD)
    victim.save()
    client = Client(REMOTE_ADDR="198.51.100.70")

    failures = [_login(client, "victim", "wrong password") for _ in range(3)]
    others = [_login(client, f"other{n}", "wrong password") for n in range(3)]

    assert failures == [200, 200, 429]  # the pair's limit
    assert others == [200, 429, 429]  # 3 + 2 failures from the address: its limit of 5
    assert _login(Client(REMOTE_ADDR="198.51.100.71"), "victim", PASSWORD) == 302


def test_the_lockout_follows_the_forwarded_address_behind_a_trusted_proxy(settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_ADDRESS_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    victim = UserFactory(username="victim")
    victim.set_password(PASSWORD)
    victim.save()
    proxy = Client(REMOTE_ADDR="10.0.0.5")

    for n in range(2):
        _login(proxy, f"user{n}", "nope", HTTP_X_FORWARDED_FOR=f"forged-{n}, 203.0.113.9")

    assert _login(proxy, "victim", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9") == 429
    assert _login(proxy, "victim", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.10") == 302


def test_spoofed_forwarded_addresses_do_not_escape_the_lockout_without_proxies(settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_ADDRESS_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 0
    victim = UserFactory(username="victim")
    victim.set_password(PASSWORD)
    victim.save()
    client = Client(REMOTE_ADDR="198.51.100.80")

    for n in range(2):
        _login(client, f"user{n}", "nope", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    assert _login(client, "victim", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.50") == 429
