"""Seeding library format v2: the v2 fields land in their columns, re-seeding writes nothing, and
a database seeded from v1 is upgraded in place (same rows, retired threats inactive)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext

from threats.engine.library import load_library
from threats.models import Control, ThreatControl, ThreatTemplate
from threats.services.library import CONTROLS_FILE, THREATS_FILE, installed_library, library_seed

pytestmark = pytest.mark.django_db

V1_EXTRACT = {
    "code": "T-EXTRACT-API",
    "name": "Model extraction through the prediction API",
    "description": "v1 text",
    "stride": ["I"],
    "atlas": ["AML.T0040"],
    "owasp": ["ML05:2023"],
    "rand": {"category": "ai_specific", "vector": "model_extraction"},
    "target": "asset",
    "asset_kinds": ["inference_endpoint"],
    "rule": {"attr": "internet_facing", "eq": True},
    "base_probability": {"OC1": 0.3, "OC2": 0.45, "OC3": 0.6, "OC4": 0.7, "OC5": 0.75},
    "controls": [{"control": "M-RATE-QUOTA", "effectiveness": 0.35}],
}


def _v1_rows() -> dict[str, int]:
    """Rows as the v1 seed left them (the columns it wrote; v2 columns at their defaults)."""
    rows = {}
    for code, entry in (
        ("T-EXTRACT-API", V1_EXTRACT),
        ("T-CI-SECRETS-THEFT", {**V1_EXTRACT, "code": "T-CI-SECRETS-THEFT"}),
    ):
        template = ThreatTemplate.objects.create(
            code=code,
            name=entry["name"],
            description="v1 text",
            stride="I",
            atlas_ids=entry["atlas"],
            owasp_ids=entry["owasp"],
            rand_category="ai_specific",
            rand_vector="model_extraction",
            target="asset",
            asset_kinds=entry["asset_kinds"],
            rule=entry["rule"],
            base_probability=entry["base_probability"],
            definition=entry,
            library_version="2026.11.1",
            content_hash="v1",
        )
        rows[code] = template.pk
    quota = Control.objects.create(
        code="M-RATE-QUOTA",
        name="quota",
        description="v1",
        type="preventive",
        cost_one_off_min=Decimal(1),
        cost_one_off_max=Decimal(2),
        cost_yearly_min=Decimal(1),
        cost_yearly_max=Decimal(2),
        rand_sl=2,
        definition={"code": "M-RATE-QUOTA"},
        library_version="2026.11.1",
        content_hash="v1",
    )
    rows["M-RATE-QUOTA"] = quota.pk
    link = ThreatControl.objects.create(
        threat_id=rows["T-EXTRACT-API"],
        control=quota,
        effectiveness=Decimal("0.35"),
        evidence_source="x",
        evidence_figure="y",
    )
    rows["link"] = link.pk
    return rows


def test_seeding_v2_over_v1_upgrades_rows_in_place_and_retires_what_v2_dropped() -> None:
    before = _v1_rows()

    report = library_seed()

    extract = ThreatTemplate.objects.get(code="T-EXTRACT-API")
    assert extract.pk == before["T-EXTRACT-API"] and report.updated["threats"] >= 1
    assert (extract.role, extract.positions, extract.loss_form, extract.loss_value, extract.query_goal) == (
        "theft",
        ["query"],
        "theft",
        "replication",
        "clone",
    )
    assert extract.rand_vectors == [{"category": "ai_specific", "vector": "model_extraction"}]
    assert extract.library_version == "2026.12.1"
    retired = ThreatTemplate.objects.get(code="T-CI-SECRETS-THEFT")
    assert retired.pk == before["T-CI-SECRETS-THEFT"] and not retired.active
    assert "T-CI-SECRETS-THEFT" not in {t.code for t in installed_library().threats}
    assert Control.objects.get(code="M-RATE-QUOTA").pk == before["M-RATE-QUOTA"]
    assert not ThreatControl.objects.filter(pk=before["link"]).exists()  # v2 lists no quota on extraction
    assert ThreatTemplate.objects.filter(code="T-EXTRACT-API").count() == 1


def test_the_v2_fields_are_stored_in_their_columns() -> None:
    library_seed()

    zero_day = ThreatTemplate.objects.get(code="T-ZERO-DAY")
    assert (zero_day.role, zero_day.position, zero_day.positions) == ("access", "network", ["network", "payload"])
    assert zero_day.rand_vectors == [
        {"category": "running_unauthorized_code", "vector": "individual_zero_days"},
        {"category": "running_unauthorized_code", "vector": "zero_days_at_scale"},
    ]
    assert (zero_day.rand_category, zero_day.rand_vector) == ("running_unauthorized_code", "individual_zero_days")
    logits = ThreatTemplate.objects.get(code="T-LOGIT-ALGEBRA")
    assert (logits.loss_yields, logits.loss_value, logits.loss_fraction) == ("served", "fraction", 0.05)
    wallet = ThreatTemplate.objects.get(code="T-COST-HARVEST")
    assert (wallet.loss_form, wallet.loss_yields, wallet.loss_value, wallet.rand_vectors) == ("compute", "", "", [])
    unaudited = ThreatTemplate.objects.get(code="T-UNAUDITED-ACCESS")
    assert (unaudited.role, unaudited.boost, unaudited.loss_form) == ("enabler", 0.3, "")
    assert "T-BULK-EGRESS" in unaudited.boosts
    assert ThreatTemplate.objects.get(code="T-INSIDER-EXFIL").actors == ["insider", "supplier"]

    transit = Control.objects.get(code="M-ENCRYPT-TRANSIT")
    assert (transit.flows, transit.pricing, transit.capability_decay) == (True, "per_element", Decimal("0.970"))
    assert Control.objects.get(code="M-INSIDER-PROGRAM").pricing == "per_system"
    file_key = ThreatControl.objects.get(threat__code="T-BULK-EGRESS", control__code="M-ENCRYPT-KMS")
    assert (file_key.on, file_key.effectiveness) == ("jewel", Decimal("0.700"))
    assert file_key.effectiveness_by_oc == pytest.approx([0.7, 0.7, 0.49, 0.343, 0.2401])  # SL2, decay 0.7
    per_oc = ThreatControl.objects.get(threat__code="T-EXPOSED-STORE", control__code="M-API-AUTHN")
    assert (per_oc.effectiveness, per_oc.effectiveness_by_oc) == (Decimal("0.970"), [0.97, 0.95, 0.9, 0.85, 0.8])


def test_reseeding_an_unchanged_library_writes_nothing() -> None:
    library_seed()

    with CaptureQueriesContext(connection) as queries:
        report = library_seed()

    assert not report.library_changed
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert [w for w in writes if "threattemplate" in w or "mitigations_" in w] == []


def test_a_changed_control_level_rewrites_the_decayed_figures_of_its_links_only() -> None:
    library_seed()
    threats = yaml.safe_load(THREATS_FILE.read_text())
    controls = yaml.safe_load(CONTROLS_FILE.read_text())
    for entry in controls["controls"]:
        if entry["code"] == "M-EGRESS-CONTROL":
            entry["rand_sl"] = 5  # expected only at SL5: no decay below

    report = library_seed(threats_text=yaml.safe_dump(threats), controls_text=yaml.safe_dump(controls))

    assert (report.updated["threats"], report.updated["controls"]) == (0, 1)
    links = ThreatControl.objects.filter(control__code="M-EGRESS-CONTROL")
    assert report.updated["links"] == links.count() > 0
    bulk = links.get(threat__code="T-BULK-EGRESS")
    assert bulk.effectiveness_by_oc == [0.5] * 5


def _comparable(library: Any) -> list[dict[str, Any]]:
    result = []
    for threat in library.threats:
        fields = {f.name: getattr(threat, f.name) for f in dataclasses.fields(threat)}
        fields["rule"] = fields["rule"].source
        result.append(fields)
    return result


def test_the_installed_library_is_the_library_of_the_files() -> None:
    library_seed()
    from_files = load_library(THREATS_FILE.read_bytes(), CONTROLS_FILE.read_bytes())

    installed = installed_library()

    assert installed.version == from_files.version
    assert installed.controls == tuple(sorted(from_files.controls, key=lambda c: c.code))
    assert _comparable(installed) == sorted(_comparable(from_files), key=lambda t: t["code"])


def test_the_migrations_carry_v1_figures_until_the_next_seed() -> None:
    """0008/0005 fill the new list columns from the v1 columns for rows seeded before them."""
    rows = _v1_rows()
    ThreatTemplate.objects.filter(pk=rows["T-EXTRACT-API"]).update(rand_vectors=[])
    ThreatControl.objects.filter(pk=rows["link"]).update(effectiveness_by_oc=[])
    library_v2 = __import__("threats.migrations.0008_library_v2", fromlist=["rand_list_from_v1"])
    control_v2 = __import__("mitigations.migrations.0005_control_v2", fromlist=["effectiveness_by_oc_from_v1"])

    library_v2.rand_list_from_v1(apps, None)
    # The data migration runs on the historical models: since threats 0011 the live registry has no
    # mitigations.ThreatControl (the catalogue moved), but the state at 0005 still names it so.
    at_0005 = MigrationLoader(connection).project_state(("mitigations", "0005_control_v2")).apps
    control_v2.effectiveness_by_oc_from_v1(at_0005, None)

    assert ThreatTemplate.objects.get(pk=rows["T-EXTRACT-API"]).rand_vectors == [
        {"category": "ai_specific", "vector": "model_extraction"}
    ]
    assert ThreatControl.objects.get(pk=rows["link"]).effectiveness_by_oc == [0.35] * 5
