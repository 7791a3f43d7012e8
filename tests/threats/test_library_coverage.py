"""``library_coverage`` reports the 38 RAND attack vectors one by one, and the library maps all 38."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from threats.engine.vocab import RAND_VECTORS
from threats.models import ThreatTemplate
from threats.services.coverage import library_coverage
from threats.services.library import library_seed

pytestmark = pytest.mark.django_db


def test_every_one_of_the_38_rand_vectors_is_mapped_by_an_active_threat() -> None:
    library_seed()

    report = library_coverage()

    assert len(report.rand_vectors) == sum(len(v) for v in RAND_VECTORS.values()) == 38
    assert report.rand_vectors_mapped == 38 and report.rand_vectors_missing == []
    assert report.rand_missing == [] and set(report.rand_covered) == set(RAND_VECTORS)
    by_vector = {(v.category, v.vector): v.threats for v in report.rand_vectors}
    assert by_vector[("running_unauthorized_code", "zero_days_at_scale")] == ["T-ZERO-DAY"]
    assert by_vector[("ai_specific", "model_extraction")] == ["T-EXTRACT-API", "T-LOGIT-ALGEBRA"]
    assert "T-SYSPROMPT-EXTRACT" not in report.rand_covered["ai_specific"]


def test_a_vector_only_an_inactive_threat_maps_is_reported_missing() -> None:
    library_seed()
    ThreatTemplate.objects.filter(code="T-PASSWORD-CRACK").update(active=False)

    report = library_coverage()

    assert report.rand_vectors_mapped == 37
    assert report.rand_vectors_missing == ["compromising_credentials/password_cracking"]
    assert "compromising_credentials" in report.rand_covered  # the category still has other vectors


def test_the_command_prints_each_vector_and_the_totals() -> None:
    library_seed()
    out = StringIO()

    call_command("library_coverage", stdout=out)

    text = out.getvalue()
    assert "RAND attack vectors: 38/38 mapped (9/9 categories)" in text
    assert "  physical_access\n" in text
    assert "    [x] military_takeover  <- T-PHYSICAL-ACCESS" in text
    assert "[ ]" not in text.split("RAND attack vectors")[1].split("OWASP")[0]


def test_the_command_json_lists_the_vectors_with_their_threats() -> None:
    library_seed()
    ThreatTemplate.objects.filter(code="T-AIRGAP-BRIDGE").update(active=False)
    out = StringIO()

    call_command("library_coverage", "--json", stdout=out)

    document = json.loads(out.getvalue())
    assert (document["rand_vectors_mapped"], document["rand_vectors_missing"]) == (
        37,
        ["nontrivial_access/air_gap_access"],
    )
    assert {"category": "nontrivial_access", "vector": "air_gap_access", "threats": []} in document["rand_vectors"]
