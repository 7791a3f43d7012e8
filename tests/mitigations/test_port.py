"""mitigations.port: the implementation of threats.ports.MitigationsPort bound in settings.

threats reads plans and acceptances only through it, as plain records; these tests pin what the
records carry (the finding page renders exactly these fields) and that the binding is the one
the setting names.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mitigations.port import MitigationsPort
from mitigations.services.acceptances import acceptance_create
from mitigations.services.plans import plan_create
from threats.ports import FindingAcceptance, FindingPlan, mitigations

pytestmark = pytest.mark.django_db


def test_the_port_is_the_class_the_setting_names_loaded_once(settings):
    assert settings.THREATS_MITIGATIONS_PORT == "mitigations.port.MitigationsPort"
    assert isinstance(mitigations(), MitigationsPort)
    assert mitigations() is mitigations()


def test_plans_and_acceptances_reach_threats_as_plain_records(owner, risk_owner, extraction, rate_quota):
    plan = plan_create(actor=owner, system=extraction.system, control=rate_quota, findings=[extraction])
    acceptance_create(
        actor=risk_owner,
        finding=extraction,
        justification="Compensated by contractual terms with the only API customer.",
        expires_on=timezone.localdate() + timedelta(days=30),
    )

    link = rate_quota.threat_links.filter(threat=extraction.template).first()
    [record] = mitigations().finding_plans(finding=extraction)
    assert record == FindingPlan(
        url=plan.get_absolute_url(),
        control_code="M-RATE-QUOTA",
        control_name=rate_quota.name,
        status_label="Proposed",
        owner_name=owner.get_username(),  # the proposer owns the plan until it is reassigned
        scope="finding",
        effectiveness=link.effectiveness if link is not None else None,
    )
    [accepted] = mitigations().finding_acceptances(finding=extraction, limit=50)
    assert accepted == FindingAcceptance(
        status_label="Active",
        end_reason="",
        accepted_by_name=risk_owner.get_username(),
        expires_on=timezone.localdate() + timedelta(days=30),
        justification="Compensated by contractual terms with the only API customer.",
    )
    assert mitigations().finding_acceptances(finding=extraction, limit=0) == []
    assert mitigations().proposed_plan_counts(system_ids=[extraction.system_id, 0]) == {extraction.system_id: 1}
    assert mitigations().accepted_finding_ids(system_id=extraction.system_id) == {extraction.pk}
