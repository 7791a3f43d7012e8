"""Issue 13.8: email subjects survive names with newlines and other control characters. Before,
a CR or LF in a system or target name made Django refuse the header and the email was lost."""

from __future__ import annotations

import pytest
from django.core import mail

from mitigations import workflow
from mitigations.services.notifications import clean_subject
from mitigations.services.transitions import plan_transition
from threats.models import Finding
from workbench.models import System

pytestmark = pytest.mark.django_db

HOSTILE = "Prod\r\nBcc: everyone@evil.test\n\x1b\u202egnp.exe\u2028tail"  # PostgreSQL stores no NUL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[Prod] M-RATE-QUOTA plan approved", "[Prod] M-RATE-QUOTA plan approved"),
        ("a\r\nb", "a b"),
        ("a\nBcc: x@evil.test", "a Bcc: x@evil.test"),
        ("tab\there", "tab here"),
        ("nul\x00byte", "nul byte"),
        ("bidi \u202eevil\u202c end", "bidi evil end"),
        ("line\u2028sep\u2029para\x85next", "line sep para next"),
        ("x" * 500, "x" * 200),
    ],
)
def test_clean_subject_keeps_one_printable_line(text, expected):
    assert clean_subject(text) == expected


def test_a_plan_email_is_sent_when_the_system_name_has_a_newline(
    propose, risk_owner, editor, in_process_tasks, inline_background, django_capture_on_commit_callbacks
):
    plan = propose()
    System.objects.filter(pk=plan.system_id).update(name=HOSTILE)  # a name stored before names were checked
    plan.system.refresh_from_db()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        plan_transition(actor=risk_owner, plan=plan, action=workflow.APPROVE)

    [message] = mail.outbox
    assert message.to == [editor.email]
    assert "\n" not in message.subject and "\r" not in message.subject and "\u202e" not in message.subject
    assert message.subject.startswith("[Prod Bcc: everyone@evil.test gnp.exe tail] M-RATE-QUOTA plan approved")
    assert message.message()["Bcc"] is None and message.bcc == []  # no header was smuggled in


def test_an_acceptance_email_is_sent_when_the_target_name_has_a_newline(
    risk_owner, owner, extraction, in_process_tasks, inline_background, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from mitigations.services.acceptances import acceptance_create

    Finding.objects.filter(pk=extraction.pk).update(target_repr="Chat\nAPI\r\nX-Injected: 1")
    extraction.refresh_from_db()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        acceptance_create(
            actor=risk_owner,
            finding=extraction,
            justification="Tolerable for the pilot quarter only.",
            expires_on=timezone.localdate() + timedelta(days=30),
        )

    [message] = mail.outbox
    assert message.subject.endswith("T-EXTRACT-API on Chat API X-Injected: 1")
    assert message.message()["X-Injected"] is None
