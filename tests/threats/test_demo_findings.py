"""The library applied to the demo system yields findings a security engineer would agree with,
and findings follow the model as it changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from threats.models import Finding, FindingStatus
from threats.services.findings import findings_refresh
from threats.services.library import library_seed
from workbench.demo import load_demo
from workbench.models import Asset, DataFlow, System
from workbench.services.elements import asset_delete, asset_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> System:
    library_seed()
    outcome = load_demo(password="demo-password-for-tests")
    system = outcome["system"]
    system.refresh_from_db()
    findings_refresh(system=system)
    return system


def _codes(system: System, asset_name: str) -> set[str]:
    return set(
        Finding.objects.filter(system=system, asset__name=asset_name)
        .exclude(status=FindingStatus.NOT_APPLICABLE)
        .values_list("template__code", flat=True)
    )


def test_public_inference_api_has_distillation_and_logit_findings(demo: System) -> None:
    codes = _codes(demo, "Public inference API")
    assert {"T-DISTILL-LLM", "T-LOGIT-ALGEBRA"} <= codes
    assert "T-EXTRACT-API" not in codes  # an LLM is distilled; T-EXTRACT-API is for classifiers


def test_the_gateway_fronted_api_does_not_let_anyone_pull_the_weights(demo: System) -> None:
    assert "T-EXPOSED-MODEL-SERVER" not in _codes(demo, "Public inference API")
    api = Asset.objects.get(system=demo, name="Public inference API")
    asset_save(actor=demo.owner, system=demo, asset=api, internet_facing=True)  # the runtime itself exposed
    demo.refresh_from_db()
    findings_refresh(system=demo)
    assert "T-EXPOSED-MODEL-SERVER" in _codes(demo, "Public inference API")


def test_internet_reachable_notebook_and_training_cluster_have_mlops_rce(demo: System) -> None:
    assert "T-MLOPS-RCE" in _codes(demo, "Notebook server")
    assert "T-MLOPS-RCE" in _codes(demo, "Training cluster")


def test_the_static_key_dr_replica_is_the_less_secure_copy_not_the_bucket(demo: System) -> None:
    assert "T-SHADOW-COPY" in _codes(demo, "DR weights replica")  # a second copy, static key, no logging
    bucket = _codes(demo, "Weights bucket")  # the system of record: private, SSO, encrypted
    assert "T-BULK-EGRESS" in bucket
    assert not {"T-SHADOW-COPY", "T-EXPOSED-STORE"} & bucket


def test_contractor_has_a_licensee_or_insider_finding(demo: System) -> None:
    assert _codes(demo, "Contractor") & {"T-LICENSEE-LEAK", "T-INSIDER-EXFIL", "T-INSIDER-RECRUITED"}


def test_unencrypted_flow_carrying_weights_has_transit_interception(demo: System) -> None:
    flow = DataFlow.objects.get(system=demo, name="Replicate weights")
    assert Finding.objects.filter(flow=flow, template__code="T-TRANSIT-INTERCEPT").exists()


def test_no_threat_lands_on_an_asset_kind_it_does_not_target(demo: System) -> None:
    for finding in Finding.objects.filter(system=demo, target_type="asset").select_related("template", "asset"):
        assert finding.asset.kind in finding.template.asset_kinds


def test_every_finding_explains_why_it_applies(demo: System) -> None:
    for finding in Finding.objects.filter(system=demo):
        assert finding.explanation and all(isinstance(reason, str) and reason for reason in finding.explanation)


def test_rerunning_on_an_unchanged_system_writes_nothing(demo: System) -> None:
    with CaptureQueriesContext(connection) as queries:
        report = findings_refresh(system=demo)
    assert not report.wrote
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_requiring_keys_closes_anonymous_abuse_findings_and_keeps_history(demo: System) -> None:
    owner = demo.owner
    exposed = Asset.objects.get(system=demo, name="Edge API gateway")
    before = Finding.objects.get(system=demo, asset=exposed, template__code="T-APIKEY-ABUSE")
    asset_save(actor=owner, system=demo, asset=exposed, authentication="sso")
    demo.refresh_from_db()
    report = findings_refresh(system=demo)
    assert report.closed >= 1
    closed = Finding.objects.get(pk=before.pk)  # same row: closed, not deleted
    assert closed.status == FindingStatus.NOT_APPLICABLE and closed.closed_version == demo.version
    assert {"T-DISTILL-LLM", "T-LOGIT-ALGEBRA"} <= _codes(demo, "Public inference API")  # sign-ups still query

    asset_save(actor=owner, system=demo, asset=exposed, authentication="none")
    demo.refresh_from_db()
    report = findings_refresh(system=demo)
    assert report.reopened >= 1
    assert Finding.objects.get(pk=before.pk).status == FindingStatus.OPEN


def test_encrypting_the_replication_flow_keeps_the_finding_and_lowers_its_risk(demo: System) -> None:
    from threats.services.recompute import system_recompute
    from workbench.services.elements import flow_save

    flow = DataFlow.objects.get(system=demo, name="Replicate weights")
    system_recompute(system_id=demo.pk)
    before = Finding.objects.get(flow=flow, template__code="T-TRANSIT-INTERCEPT")
    flow_save(actor=demo.owner, system=demo, flow=flow, encrypted=True)
    system_recompute(system_id=demo.pk)
    after = Finding.objects.get(pk=before.pk)
    # Encryption is a control, not a reason the threat stops applying: inherent keeps the tap,
    # current prices it through TLS (DESIGN.md §4.5).
    assert after.status == FindingStatus.OPEN
    assert after.inherent_mean == pytest.approx(before.inherent_mean, rel=1e-9)
    assert after.current_mean < 0.2 * before.current_mean


def test_deleting_a_target_closes_its_findings_but_keeps_them(demo: System) -> None:
    contractor = Asset.objects.get(system=demo, name="Contractor")
    ids = list(Finding.objects.filter(asset=contractor).values_list("pk", flat=True))
    asset_delete(actor=demo.owner, asset=contractor)
    demo.refresh_from_db()
    findings_refresh(system=demo)
    kept = Finding.objects.filter(pk__in=ids)
    assert kept.count() == len(ids) > 0
    assert {f.status for f in kept} == {FindingStatus.NOT_APPLICABLE}
    assert {f.target_repr for f in kept} == {"Contractor"}
