"""Issue 13.3: a webhook cannot reach inside. Internal and metadata targets are refused when the
URL is saved (form and service) and again at delivery, where the host is resolved once, every
address is checked and the connection goes to the checked address; redirects are not followed.
Real local receivers stand in for the internal services; ``fake_dns`` plays the attacker's DNS."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mitigations import webhook_targets, workflow
from mitigations.models import TeamWebhook, WebhookDelivery
from mitigations.services.transitions import plan_transition
from mitigations.services.webhooks import webhook_configure
from tests.mitigations.conftest import PUBLIC_ADDRESS
from tests.mitigations.receivers import Receiver
from workbench.choices import JobKind, JobStatus
from workbench.models import AuditEvent, Job

pytestmark = pytest.mark.django_db

# (URL, how the name resolves if it is one): each must be refused whatever the allow-list says
# about other hosts.
INSIDE = {
    "loopback": "https://127.0.0.1/hook",
    "loopback short form": "https://127.1/hook",
    "private 10/8": "https://10.0.0.5/hook",
    "private 192.168/16": "https://192.168.1.20:8443/hook",
    "metadata": "https://169.254.169.254/latest/meta-data/iam/",
    "link-local": "https://169.254.10.10/",
    "cgnat": "https://100.64.0.7/",
    "ipv6 loopback": "https://[::1]/hook",
    "ipv4-mapped loopback": "https://[::ffff:127.0.0.1]/hook",
    "ipv6 unique local": "https://[fd12:3456::1]/hook",
    "aws ipv6 metadata": "https://[fd00:ec2::254]/latest/",
    "ipv6 link-local": "https://[fe80::1]/hook",
    "multicast": "https://224.0.0.1/",
    "unspecified": "https://0.0.0.0/",
    "localhost": "https://localhost/hook",
    "gcp metadata name": "https://metadata.google.internal/computeMetadata/v1/",
    "name resolving to loopback": "https://loopback.example.test/hook",
    "name resolving to private": "https://intranet.example.test/hook",
    "name with one private address": "https://mixed.example.test/hook",
}


@pytest.fixture
def attacker_dns(fake_dns: Any) -> Any:
    fake_dns["loopback.example.test"] = ["127.0.0.1"]
    fake_dns["intranet.example.test"] = ["10.20.30.40"]
    fake_dns["mixed.example.test"] = [PUBLIC_ADDRESS, "10.0.0.5"]
    fake_dns["metadata.google.internal"] = ["169.254.169.254"]
    return fake_dns


@pytest.mark.parametrize("url", INSIDE.values(), ids=INSIDE.keys())
def test_internal_targets_are_refused_when_saved(owner, team_a, attacker_dns, nothing_written, url):
    with nothing_written(), pytest.raises(ValidationError) as info:
        webhook_configure(actor=owner, team=team_a, url=url)
    [message] = info.value.message_dict["url"]
    assert message.startswith("This ")  # one of the guard's own sentences
    assert not TeamWebhook.objects.exists()


def test_the_settings_page_refuses_an_internal_target_with_a_form_error(client_as, owner, team_a, nothing_written):
    page = reverse("mitigations:webhook_edit", args=[team_a.slug])
    with nothing_written():
        response = client_as("owner").post(page, {"url": "https://10.0.0.5/hook", "active": "on"})
    assert response.status_code == 400
    assert "This address is a private address" in response.content.decode()


def test_a_refusal_does_not_say_what_a_name_resolved_to(owner, team_a, attacker_dns):
    with pytest.raises(ValidationError) as info:
        webhook_configure(actor=owner, team=team_a, url="https://intranet.example.test/")
    assert "10.20.30.40" not in str(info.value) and "resolves to a private address" in str(info.value)


def test_a_public_https_target_is_accepted(owner, team_a, fake_dns):
    hook = webhook_configure(actor=owner, team=team_a, url="https://hooks.example.test/workbench")
    assert hook.url == "https://hooks.example.test/workbench"


def test_the_allow_list_opens_named_private_hosts_but_never_metadata(owner, team_a, attacker_dns, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["intranet.example.test", "169.254.0.0/16", "fd00::/8"]
    assert webhook_configure(actor=owner, team=team_a, url="https://intranet.example.test/x").pk
    assert webhook_configure(actor=owner, team=team_a, url="https://169.254.10.10/x").pk  # allow-listed network
    for url in ("https://169.254.169.254/", "https://[fd00:ec2::254]/", "https://metadata.google.internal/"):
        with pytest.raises(ValidationError, match="metadata"):
            webhook_configure(actor=owner, team=team_a, url=url)
    with pytest.raises(ValidationError):
        webhook_configure(actor=owner, team=team_a, url="https://10.0.0.5/")  # not on the list


# --- at delivery --------------------------------------------------------------------------------


@pytest.fixture
def approve_with_hook(
    propose, risk_owner, team_a, in_process_tasks, inline_background, django_capture_on_commit_callbacks
) -> Any:
    """``approve_with_hook(url)``: a webhook row with ``url`` (as stored before this check existed,
    or valid when saved), then an approval whose delivery runs; returns the delivery."""

    def _run(url: str) -> WebhookDelivery:
        TeamWebhook.objects.update_or_create(team=team_a, defaults={"url": url, "secret": "s" * 64, "active": True})
        plan = propose()
        with django_capture_on_commit_callbacks(execute=True):
            plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)
        return WebhookDelivery.objects.select_related("job").get(job__kind=JobKind.WEBHOOK)

    return _run


@pytest.mark.parametrize("url", INSIDE.values(), ids=INSIDE.keys())
def test_internal_targets_are_refused_again_at_delivery(approve_with_hook, attacker_dns, url):
    delivery = approve_with_hook(url)

    assert delivery.job.status == JobStatus.FAILED
    assert delivery.attempts == 1  # a refused target is not retried
    assert delivery.last_error.startswith("refused: ")
    assert delivery.last_status is None


def test_a_local_service_gets_no_request_unless_allow_listed(approve_with_hook, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    with Receiver() as service:
        delivery = approve_with_hook(service.url)
    assert service.requests == []
    assert delivery.job.status == JobStatus.FAILED and "loopback" in delivery.last_error


def test_dns_that_changes_after_the_save_is_checked_again(owner, team_a, approve_with_hook, fake_dns, settings):
    """Rebinding: public when the admin saves, loopback when the delivery runs."""
    settings.WEBHOOK_REQUIRE_HTTPS = False
    with Receiver() as service:
        fake_dns["rebind.example.test"] = [PUBLIC_ADDRESS]
        url = f"http://rebind.example.test:{service.port}/hook"
        webhook_configure(actor=owner, team=team_a, url=url)
        fake_dns["rebind.example.test"] = ["127.0.0.1"]
        delivery = approve_with_hook(url)
    assert service.requests == []
    assert delivery.job.status == JobStatus.FAILED
    assert (
        delivery.last_error
        == "refused: This host name resolves to a loopback address; webhooks only go to public addresses."
    )


def test_the_connection_goes_to_the_address_that_was_checked(approve_with_hook, fake_dns, settings):
    """One lookup per attempt, the socket to that address, the Host header still the name."""
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["receiver.internal.test"]
    fake_dns["receiver.internal.test"] = ["127.0.0.1"]
    with Receiver() as receiver:
        delivery = approve_with_hook(f"http://receiver.internal.test:{receiver.port}/hook?x=1")
    assert delivery.job.status == JobStatus.SUCCEEDED, delivery.last_error
    [(headers, _)] = receiver.requests
    assert headers["Host"] == f"receiver.internal.test:{receiver.port}"
    assert fake_dns.calls["receiver.internal.test"] == 1


@pytest.mark.parametrize("where", ["private", "allow-listed"])
def test_a_redirect_to_a_private_address_is_not_followed(approve_with_hook, local_receivers, where):
    with Receiver() as inside:
        location = "http://10.0.0.5/hook" if where == "private" else inside.url  # allowed, still not followed
        with Receiver(status=307, location=location) as bouncer:
            delivery = approve_with_hook(bouncer.url)
    assert len(bouncer.requests) == 4 and inside.requests == []
    assert (delivery.job.status, delivery.last_status) == (JobStatus.FAILED, 307)
    assert delivery.last_error == "status 307, redirect not followed"


def test_check_url_pins_the_first_checked_address(attacker_dns, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["10.0.0.0/8"]
    target = webhook_targets.check_url("https://mixed.example.test:8443/a/b?c=d")
    assert (target.scheme, target.host, target.port, target.address, target.path) == (
        "https",
        "mixed.example.test",
        8443,
        PUBLIC_ADDRESS,
        "/a/b?c=d",
    )


def test_no_audit_event_for_a_refused_save(owner, team_a, attacker_dns):
    with pytest.raises(ValidationError):
        webhook_configure(actor=owner, team=team_a, url=INSIDE["metadata"])
    assert not AuditEvent.objects.filter(object_type="teamwebhook").exists()
    assert not Job.objects.filter(kind=JobKind.WEBHOOK).exists()
