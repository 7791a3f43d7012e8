"""ATLAS import: the real file lands completely and idempotently; hostile files write nothing.

Tests about the upstream file's own contents read it from ``../shared`` (``shared_path``: skipped
on a fresh clone, failing under CI=true); tests about behaviour use the shipped derived data.
"""

from __future__ import annotations

import contextlib
import io
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from threats.atlas_parser import AtlasFormatError, parse_atlas
from threats.models import AtlasCaseStudy, AtlasMitigation, AtlasRelease, AtlasTactic, AtlasTechnique
from threats.services.atlas import SHIPPED_FILE, atlas_import, atlas_load_shipped, atlas_unknown_references

BILLION_LAUGHS = b"lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + b"".join(
    f"lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n".encode() for n in range(1, 10)
)

MINIMAL = """\
id: ATLAS
version: {version}
matrices:
- id: ATLAS
  tactics:
  - {{id: AML.TA0001, name: {tactic_name}, created_date: 2022-13-45, modified_date: 2025-04-09}}
  techniques:
  - {{id: AML.T0001, name: Parent, tactics: [AML.TA0001], maturity: realized}}
  - {{id: AML.T0001.000, name: Child, subtechnique-of: AML.T0001, maturity: feasible}}
  mitigations:
  - id: AML.M0001
    name: Mitigation
    category: [Policy]
    techniques: [{{id: AML.T0001, use: x}}, {{id: AML.T0001, use: again}}]
    ml-lifecycle: [Deployment, {{id: AML.T0001.000, use: misplaced}}]
case-studies:
- {{id: AML.CS0001, name: A case, summary: Long upstream prose., procedure: []}}
"""


@pytest.fixture(scope="module")
def atlas_bytes(shared_path: Any) -> bytes:
    """The upstream export; the test is skipped without ../shared (fails under CI=true)."""
    return shared_path("reference/ATLAS.yaml").read_bytes()


def atlas_state() -> dict[str, Any]:
    """Every ATLAS row and link, as plain values, to compare before and after."""
    return {
        "tactics": list(AtlasTactic.objects.values_list("pk", "atlas_id", "name", "description")),
        "techniques": list(AtlasTechnique.objects.values_list("pk", "atlas_id", "name", "maturity", "parent_id")),
        "mitigations": list(AtlasMitigation.objects.values_list("pk", "atlas_id", "name", "category")),
        "technique_tactics": sorted(
            AtlasTechnique.tactics.through.objects.values_list("pk", "atlastechnique_id", "atlastactic_id")
        ),
        "mitigation_techniques": sorted(
            AtlasMitigation.techniques.through.objects.values_list("pk", "atlasmitigation_id", "atlastechnique_id")
        ),
        "case_studies": list(AtlasCaseStudy.objects.values_list("pk", "atlas_id", "name")),
        "releases": list(AtlasRelease.objects.values_list("pk", "version", "imported_at", "counts")),
    }


@pytest.mark.django_db
def test_real_file_imports_16_tactics_170_techniques_35_mitigations_57_case_studies(atlas_bytes: bytes) -> None:
    report = atlas_import(data=atlas_bytes)

    assert (report.version, report.tactics, report.techniques, report.mitigations, report.case_studies) == (
        "5.6.0",
        16,
        170,
        35,
        57,
    )
    assert (AtlasTactic.objects.count(), AtlasTechnique.objects.count(), AtlasMitigation.objects.count()) == (
        16,
        170,
        35,
    )
    assert AtlasTechnique.objects.filter(parent__isnull=False).count() == 69
    assert AtlasTechnique.objects.get(atlas_id="AML.T0024.002").parent.atlas_id == "AML.T0024"
    assert AtlasRelease.objects.get().counts["mitigations"] == 35
    assert (
        AtlasCaseStudy.objects.get(atlas_id="AML.CS0056").name
        == "Model Distillation Campaigns Targeting Anthropic Claude"
    )
    assert (report.created, report.updated) == (16 + 170 + 35 + 57, 0)


@pytest.mark.django_db
def test_reimporting_the_same_file_writes_nothing(atlas_bytes: bytes) -> None:
    atlas_import(data=atlas_bytes)
    before = atlas_state()

    with CaptureQueriesContext(connection) as queries:
        report = atlas_import(data=atlas_bytes)

    assert not report.changed
    assert atlas_state() == before
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


@pytest.mark.django_db
def test_reimport_repairs_drift_in_place(atlas_bytes: bytes) -> None:
    atlas_import(data=atlas_bytes)
    extract = AtlasTechnique.objects.get(atlas_id="AML.T0024.002")
    extract.name = "edited by hand"
    extract.save()
    AtlasMitigation.objects.get(atlas_id="AML.M0000").techniques.add(extract)
    pk = extract.pk

    report = atlas_import(data=atlas_bytes)

    assert (report.created, report.updated, report.links_removed) == (0, 1, 1)
    extract = AtlasTechnique.objects.get(atlas_id="AML.T0024.002")
    assert (extract.pk, extract.name) == (pk, "Extract AI Model")


@pytest.mark.django_db
def test_every_technique_sits_under_a_known_tactic(atlas_bytes: bytes) -> None:
    atlas_import(data=atlas_bytes)

    for technique in AtlasTechnique.objects.prefetch_related("tactics", "parent__tactics"):
        tactics = {t.atlas_id for t in technique.tactics.all()}
        assert tactics, technique.atlas_id
        if technique.parent is not None:
            assert tactics == {t.atlas_id for t in technique.parent.tactics.all()}
    assert AtlasTactic.objects.filter(techniques__isnull=True).count() == 0


def test_real_file_quirks_are_repaired(atlas_bytes: bytes) -> None:
    atlas = parse_atlas(atlas_bytes)
    by_id = {m.atlas_id: m for m in atlas.mitigations}

    # AML.M0002 and AML.M0004 list AML.T0043.001 twice: kept once.
    assert by_id["AML.M0002"].technique_ids.count("AML.T0043.001") == 1
    # A {id, use} mapping where a lifecycle stage name (a string) is expected: read as a link.
    assert "AML.T0052.001" in by_id["AML.M0018"].technique_ids
    assert "AML.T0052.001" in by_id["AML.M0034"].technique_ids
    assert len(atlas.notes) == 4
    assert sum(len(m.technique_ids) for m in atlas.mitigations) == 246
    assert by_id["AML.M0002"].category == "Technical - ML"


def test_unquoted_dates_and_numbers_stay_text_and_quirks_are_repaired() -> None:
    text = MINIMAL.format(version="5.10", tactic_name="2022-01-24")

    atlas = parse_atlas(text.encode())

    # YAML 1.1 would give date(2022, 1, 24), crash on 2022-13-45 and turn 5.10 into 5.1.
    assert atlas.version == "5.10"
    assert atlas.tactics[0].name == "2022-01-24"
    assert atlas.techniques[1].tactic_ids == ("AML.TA0001",)  # inherited from the parent
    assert atlas.mitigations[0].technique_ids == ("AML.T0001", "AML.T0001.000")
    assert [(c.atlas_id, c.name) for c in atlas.case_studies] == [("AML.CS0001", "A case")]


@pytest.mark.django_db
@pytest.mark.timeout(10)
def test_billion_laughs_is_refused_quickly_without_memory_blowup() -> None:
    atlas_load_shipped()
    before = atlas_state()
    tracemalloc.start()
    started = time.perf_counter()

    with pytest.raises(AtlasFormatError, match="billion laughs"):
        atlas_import(data=BILLION_LAUGHS)

    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2
    assert peak < 20 * 1024 * 1024
    assert atlas_state() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(bytes(range(256)) * 4, "Not a valid YAML file", id="binary"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Not a valid YAML file", id="png"),
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"just some words", "top level is a string", id="text"),
        pytest.param(b'{"name": "package.json", "version": "1.0.0"}', "missing 'matrices'", id="json-not-atlas"),
        pytest.param(b"version: 1\nmatrices: [{id: ATLAS, tactics: []}]", "missing 'techniques'", id="no-techniques"),
        pytest.param(b"version: 1\nmatrices: [{id: OTHER}]", "no mapping with id 'ATLAS'", id="no-atlas-matrix"),
        pytest.param(b"a: &a [*a]", "refers to itself", id="recursive-alias"),
        pytest.param(b"- " * 500 + b"x", "nests deeper", id="deep-nesting"),
        pytest.param(b"a: 1\n---\nb: 2\n", "single document", id="two-documents"),
    ],
)
def test_non_atlas_input_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(AtlasFormatError, match=message):
        parse_atlas(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(("name: Parent", "name: [Parent]"), "AML.T0001: 'name' should be a string", id="list-name"),
        pytest.param(("tactics: [AML.TA0001]", "tactics: [AML.TA0099]"), "unknown id 'AML.TA0099'", id="tactic"),
        pytest.param(("{id: AML.T0001, use: x}", "{id: AML.T0777, use: x}"), "unknown id 'AML.T0777'", id="link"),
        pytest.param(("id: AML.T0001.000", "id: AML.T0001"), "appears twice", id="duplicate"),
        pytest.param(("AML.TA0001, name", "TA-1, name"), "not an ATLAS tactic id", id="bad-id"),
        pytest.param(("id: AML.CS0001", "id: CS-1"), "not an ATLAS case study id", id="bad-case-study-id"),
        pytest.param(("name: A case", "name: [A case]"), "AML.CS0001: 'name' should be a string", id="case-name"),
    ],
)
def test_inconsistent_atlas_is_refused_naming_the_object(change: tuple[str, str], message: str) -> None:
    text = MINIMAL.format(version="1", tactic_name="T").replace(*change, 1)

    with pytest.raises(AtlasFormatError, match=message):
        parse_atlas(text.encode())


@pytest.mark.django_db
def test_python_object_tag_is_refused_and_never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("os.system", calls.append)

    with pytest.raises(AtlasFormatError, match="python/object/apply:os.system"):
        atlas_import(data=b"version: !!python/object/apply:os.system ['touch /tmp/pwned']\nmatrices: []\n")

    assert calls == []
    assert AtlasRelease.objects.count() == 0


@pytest.mark.django_db
def test_unknown_references_lists_ids_atlas_lacks() -> None:
    atlas_load_shipped()

    ids = ["AML.T0024.002", "AML.T9999", "AML.M0004", "AML.TA0010", "AML.TA0099", "AML.M0099", "T0024", "AML.T9999"]
    ids += ["AML.CS0056", "AML.CS0999"]
    assert atlas_unknown_references(ids) == ["AML.T9999", "AML.TA0099", "AML.M0099", "T0024", "AML.CS0999"]


@pytest.mark.django_db
def test_command_prints_counts_and_names_library_entries_citing_unknown_ids(tmp_path: Path, settings: Any) -> None:
    atlas_path = tmp_path / "atlas-derived.json"  # the shipped file is an ATLAS export too
    atlas_path.write_bytes(SHIPPED_FILE.read_bytes())
    (tmp_path / "threats" / "library").mkdir(parents=True)
    (tmp_path / "threats" / "library" / "threats.yaml").write_text(
        yaml.safe_dump({"threats": [{"code": "T-EXTRACT-API", "atlas": ["AML.T0024.002", "AML.T0999"]}]})
    )
    settings.BASE_DIR = tmp_path  # controls.yaml absent there: skipped silently
    out = io.StringIO()

    call_command("import_atlas", str(atlas_path), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ATLAS 5.6.0: 16 tactics, 170 techniques, 35 mitigations, 57 case studies")
    assert [line for line in lines if line.startswith("unknown:")] == [
        "unknown: threat T-EXTRACT-API cites AML.T0999, which ATLAS 5.6.0 does not know."
    ]


@pytest.mark.django_db
def test_command_fails_clearly_on_bad_input(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(BILLION_LAUGHS)

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_atlas", str(bomb), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_atlas", str(tmp_path / "missing.yaml"), stdout=io.StringIO())
    assert AtlasTechnique.objects.count() == 0


YAMLISH = st.text(alphabet=st.sampled_from(list("abAML.T0123:-_ \n\t[]{},&*!|>'\"#%@`?~=<") + ["\x00", "é"]))
ATLAS_KEYS = st.sampled_from(
    [
        "id",
        "name",
        "version",
        "matrices",
        "tactics",
        "techniques",
        "mitigations",
        "subtechnique-of",
        "category",
        "ml-lifecycle",
        "use",
        "ATLAS",
        "AML.T0001",
    ]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | ATLAS_KEYS
TREES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ATLAS_KEYS, inner, max_size=4), max_leaves=30
)


def _only_format_errors(data: bytes) -> None:
    """Any exception other than AtlasFormatError escapes and fails the property."""
    with contextlib.suppress(AtlasFormatError):
        parse_atlas(data)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=512) | YAMLISH.map(str.encode))
def test_parser_raises_only_atlas_format_error_on_random_input(data: bytes) -> None:
    _only_format_errors(data)


IDS = st.sampled_from(["AML.TA0001", "AML.TA0002", "AML.T0001", "AML.T0001.000", "AML.T0002.001", "AML.M0001", "x"])
OBJECTS = st.fixed_dictionaries(
    {"id": IDS | SCALARS},
    optional={
        key: IDS | TREES | st.lists(IDS | st.fixed_dictionaries({"id": IDS}), max_size=3)
        for key in ("name", "tactics", "subtechnique-of", "techniques", "ml-lifecycle", "category")
    },
)
MATRICES = st.fixed_dictionaries(
    {"id": st.just("ATLAS")},
    optional={key: st.lists(OBJECTS, max_size=3) | TREES for key in ("tactics", "techniques", "mitigations")},
)


@hsettings(max_examples=200, deadline=None)
@given(tree=TREES, matrix=MATRICES)
def test_parser_raises_only_atlas_format_error_on_random_structures(tree: Any, matrix: dict[str, Any]) -> None:
    _only_format_errors(yaml.safe_dump(tree).encode())
    _only_format_errors(yaml.safe_dump({"version": "1", "matrices": [matrix]}).encode())
