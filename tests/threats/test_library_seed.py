"""Seeding the curated library: complete, idempotent, upgraded in place, all-or-nothing.

The seed also loads the ATLAS names shipped in ``threats/library/atlas-derived.json``; the tests at
the end pin down when it does and when a newer imported release is left alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from threats.atlas_parser import AtlasFormatError
from threats.engine.library import LibraryError
from threats.models import (
    AtlasCaseStudy,
    AtlasRelease,
    AtlasTactic,
    AtlasTechnique,
    Control,
    LibraryState,
    ThreatControl,
    ThreatTemplate,
)
from threats.services.atlas import SHIPPED_FILE, atlas_import, atlas_unknown_references
from threats.services.library import CONTROLS_FILE, THREATS_FILE, installed_library, library_seed

pytestmark = pytest.mark.django_db

# Every §(a) entry of the knowledge file has a threat in the library (by code).
REQUIRED_THREATS = {
    "T-EXTRACT-API",
    "T-DISTILL-LLM",
    "T-LOGIT-ALGEBRA",
    "T-OUTPUT-OVERSHARE",
    "T-SYSPROMPT-EXTRACT",
    "T-TRAINDATA-INFER",
    "T-APIKEY-ABUSE",
    "T-TOKEN-LEAK-HUB",
    "T-PHISH-MLENG",
    "T-INSIDER-EXFIL",
    "T-INSIDER-RECRUITED",
    "T-LICENSEE-LEAK",
    "T-EXPOSED-STORE",
    "T-SHADOW-COPY",
    "T-MLOPS-RCE",
    "T-MALICIOUS-ARTIFACT",
    "T-DEPENDENCY-COMPROMISE",
    "T-PROMPT-TO-CODE",
    "T-CLOUD-PRIVESC",
    "T-BULK-EGRESS",
    "T-TRANSIT-INTERCEPT",
    "T-ACCESSCTRL-SUBVERT",
    "T-CACHE-TIMING",
    "T-GPU-MEM-RESIDUE",
    "T-BUS-SNOOP",
    "T-EM-POWER-LEAK",
    "T-EDGE-UNPACK",
    "T-HW-SUPPLY",
    "T-PHYSICAL-ACCESS",
    "T-AIRGAP-BRIDGE",
    "T-COST-HARVEST",
    "T-UNAUDITED-ACCESS",
    "T-AGENT-DATA-HARVEST",
}


def _docs() -> tuple[dict, dict]:
    return yaml.safe_load(THREATS_FILE.read_text()), yaml.safe_load(CONTROLS_FILE.read_text())


def _counts() -> tuple[int, int, int]:
    return ThreatTemplate.objects.count(), Control.objects.count(), ThreatControl.objects.count()


def test_seed_installs_at_least_32_threats_and_26_controls_covering_the_knowledge_base() -> None:
    report = library_seed()
    assert report.created["threats"] >= 32 and report.created["controls"] >= 26
    codes = set(ThreatTemplate.objects.values_list("code", flat=True))
    assert codes >= REQUIRED_THREATS
    for threat in ThreatTemplate.objects.all():
        # RAND names no vector for some thefts and enablers (library v2: rand may be empty)
        assert threat.stride and threat.atlas_ids and threat.role and threat.actors and threat.positions
        assert set(threat.base_probability) == {"OC1", "OC2", "OC3", "OC4", "OC5"}
        links = ThreatControl.objects.filter(threat=threat)
        assert links.exists(), threat.code
        assert all(link.evidence_source and link.evidence_figure for link in links), threat.code
    assert LibraryState.objects.get().threat_count == len(codes)


def test_seeding_twice_writes_nothing_the_second_time(django_assert_max_num_queries) -> None:
    library_seed()
    before = _counts()
    stamps = list(ThreatTemplate.objects.order_by("pk").values_list("updated_at", flat=True))
    report = library_seed()
    assert not report.changed
    assert _counts() == before
    assert list(ThreatTemplate.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_a_new_library_version_upgrades_rows_in_place_and_deactivates_dropped_ones() -> None:
    library_seed()
    threats, controls = _docs()
    ids = dict(ThreatTemplate.objects.values_list("code", "pk"))
    threats["version"] = controls["version"] = "2099.1.0"
    threats["threats"][0]["name"] = "Renamed in the next version"
    dropped = threats["threats"].pop()
    report = library_seed(threats_text=yaml.safe_dump(threats), controls_text=yaml.safe_dump(controls))
    assert report.updated["threats"] == len(threats["threats"])  # version stamp changed on every row
    assert report.deactivated["threats"] == 1
    assert dict(ThreatTemplate.objects.values_list("code", "pk")) == ids  # no duplicate rows
    first = ThreatTemplate.objects.get(code=threats["threats"][0]["code"])
    assert first.name == "Renamed in the next version" and first.library_version == "2099.1.0"
    assert not ThreatTemplate.objects.get(code=dropped["code"]).active
    assert dropped["code"] not in {t.code for t in installed_library().threats}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t, c: t["threats"][0].update(surprise=1), "surprise"),
        (
            lambda t, c: t["threats"][0].update(rule={"all": [{"attr": "no_such_property", "eq": True}]}),
            "no_such_property",
        ),
        (lambda t, c: t["threats"][1].update(rule={"attr": "internet_facing", "eq": "yes"}), "internet_facing"),
        (
            lambda t, c: t["threats"][0]["controls"].append(
                {"control": "M-NOPE", "effectiveness": 0.5, "evidence": {"source": "x", "figure": "y"}}
            ),
            "M-NOPE",
        ),
        (lambda t, c: c["controls"][0].update(rand_sl=9), "rand_sl"),
    ],
    ids=["unknown-field", "unknown-property", "wrong-type", "unknown-control", "bad-security-level"],
)
def test_an_invalid_library_is_refused_naming_the_entry_and_nothing_is_written(mutate, message) -> None:
    threats, controls = _docs()
    mutate(threats, controls)
    with pytest.raises(LibraryError) as error:
        library_seed(threats_text=yaml.safe_dump(threats), controls_text=yaml.safe_dump(controls))
    assert message in str(error.value)
    assert _counts() == (0, 0, 0)
    assert not LibraryState.objects.exists()


def test_a_yaml_bomb_is_refused_without_writing() -> None:
    bomb = "a: &a ['x','x','x','x','x','x','x','x','x']\n"
    for n in range(1, 12):
        bomb += f"{chr(97 + n)}: &{chr(97 + n)} [*{chr(96 + n)},*{chr(96 + n)},*{chr(96 + n)},*{chr(96 + n)}]\n"
    with pytest.raises(LibraryError):
        library_seed(threats_text=bomb, controls_text=CONTROLS_FILE.read_text())
    assert _counts() == (0, 0, 0)


def test_every_atlas_id_the_library_cites_resolves_in_the_atlas_export(shared_path: Any) -> None:
    atlas_import(data=shared_path("reference/ATLAS.yaml").read_bytes())
    library_seed()
    cited = [i for ids in ThreatTemplate.objects.values_list("atlas_ids", flat=True) for i in ids]
    cited += [i for ids in Control.objects.values_list("atlas_mitigation_ids", flat=True) for i in ids]
    assert len(set(cited)) > 50
    assert atlas_unknown_references(cited) == []


# --- The shipped ATLAS names -------------------------------------------------------------------


def _export(version: str, **renamed: str) -> bytes:
    """The shipped data as an ATLAS export of another ``version``, with techniques renamed and described."""
    document = json.loads(SHIPPED_FILE.read_text())
    document["version"] = version
    for technique in document["matrices"][0]["techniques"]:
        if technique["id"] in renamed:
            technique["name"] = renamed[technique["id"]]
            technique["description"] = f"Description from ATLAS {version}."
    return json.dumps(document).encode()


def _atlas_writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"} and "threats_atlas" in q["sql"]
    ]


def test_seed_loads_the_shipped_atlas_names_on_an_empty_database() -> None:
    report = library_seed()

    assert report.atlas is not None and report.atlas.changed
    assert report.atlas.message.startswith("ATLAS 5.6.0 names loaded from the shipped data (278 created")
    assert (AtlasTactic.objects.count(), AtlasTechnique.objects.count(), AtlasCaseStudy.objects.count()) == (
        16,
        170,
        57,
    )
    extract = AtlasTechnique.objects.get(atlas_id="AML.T0024.002")
    assert (extract.name, extract.parent.atlas_id, extract.description) == ("Extract AI Model", "AML.T0024", "")
    assert set(extract.tactics.values_list("name", flat=True)) == {"Exfiltration"}  # inherited from AML.T0024
    assert extract.mitigations.filter(atlas_id="AML.M0004").exists()
    assert AtlasRelease.objects.get().version == "5.6.0"


def test_reseeding_writes_no_atlas_rows() -> None:
    library_seed()

    with CaptureQueriesContext(connection) as queries:
        report = library_seed()

    assert not report.changed
    assert report.atlas is not None and report.atlas.message == "ATLAS 5.6.0 names are up to date."
    assert _atlas_writes(queries) == []


def test_every_atlas_id_the_library_cites_resolves_in_the_shipped_data() -> None:
    library_seed()  # no upstream export: the shipped names alone

    cited = [i for ids in ThreatTemplate.objects.values_list("atlas_ids", flat=True) for i in ids]
    cited += [i for ids in Control.objects.values_list("atlas_mitigation_ids", flat=True) for i in ids]
    assert len(set(cited)) > 50
    assert atlas_unknown_references(cited) == []


def test_an_imported_newer_release_wins_and_the_seed_leaves_it_alone() -> None:
    library_seed()
    atlas_import(data=_export("5.7.0", **{"AML.T0024.002": "Extract AI Model (renamed upstream)"}))

    with CaptureQueriesContext(connection) as queries:
        report = library_seed()

    extract = AtlasTechnique.objects.get(atlas_id="AML.T0024.002")
    assert (extract.name, extract.description) == (
        "Extract AI Model (renamed upstream)",
        "Description from ATLAS 5.7.0.",
    )
    assert report.atlas is not None and report.atlas.kept == "5.7.0" and report.atlas.report is None
    assert report.atlas.message == "ATLAS 5.7.0 in the database is newer than the shipped 5.6.0; kept it."
    assert _atlas_writes(queries) == []


def test_a_release_version_that_cannot_be_ordered_is_never_overwritten() -> None:
    atlas_import(data=_export("6.0-rc1", **{"AML.T0024.002": "Preview name"}))

    report = library_seed()

    assert report.atlas is not None and report.atlas.kept == "6.0-rc1"
    assert AtlasTechnique.objects.get(atlas_id="AML.T0024.002").name == "Preview name"


def test_the_shipped_names_replace_an_older_import_but_keep_its_descriptions() -> None:
    atlas_import(data=_export("5.5.0", **{"AML.T0024.002": "Old name"}))

    report = library_seed()

    extract = AtlasTechnique.objects.get(atlas_id="AML.T0024.002")
    assert (extract.name, extract.description) == ("Extract AI Model", "Description from ATLAS 5.5.0.")
    assert report.atlas is not None and report.atlas.report is not None and report.atlas.report.updated == 1
    assert sorted(AtlasRelease.objects.values_list("version", flat=True)) == ["5.5.0", "5.6.0"]


def test_an_upstream_import_of_the_same_release_keeps_its_descriptions_on_reseed(shared_path: Any) -> None:
    atlas_import(data=shared_path("reference/ATLAS.yaml").read_bytes())
    described = dict(AtlasTechnique.objects.values_list("atlas_id", "description"))

    with CaptureQueriesContext(connection) as queries:
        library_seed()

    assert dict(AtlasTechnique.objects.values_list("atlas_id", "description")) == described
    assert described["AML.T0024.002"]
    assert _atlas_writes(queries) == []


def test_a_damaged_shipped_file_refuses_the_whole_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = tmp_path / "atlas-derived.json"
    damaged.write_text(SHIPPED_FILE.read_text().replace('"tactics": ["AML.TA0010"]', '"tactics": ["AML.TA9999"]', 1))
    monkeypatch.setattr("threats.services.atlas.SHIPPED_FILE", damaged)

    with pytest.raises(AtlasFormatError, match="AML.TA9999"):
        library_seed()

    assert _counts() == (0, 0, 0)
    assert not AtlasTechnique.objects.exists() and not AtlasRelease.objects.exists()
