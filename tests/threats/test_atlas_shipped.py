"""The ATLAS data shipped in the repository: what it holds, what it leaves out, how it is made.

Only the first test needs the upstream export (``../shared``); the rest run on a fresh clone.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from threats.atlas_derived import ATTRIBUTION, derive, version_key
from threats.atlas_parser import CASE_STUDY_ID, MITIGATION_ID, TACTIC_ID, TECHNIQUE_ID, parse_atlas
from threats.management.commands.import_atlas import library_references
from threats.services.atlas import SHIPPED_FILE

# Every key the derived file may hold, per kind of object; upstream prose has no place in it.
ALLOWED_KEYS = {
    "top": {"id", "version", "format", "attribution", "matrices", "case-studies"},
    "matrix": {"id", "tactics", "techniques", "mitigations"},
    "tactic": {"id", "name"},
    "technique": {"id", "name", "tactics", "subtechnique-of"},
    "mitigation": {"id", "name", "techniques"},
    "case study": {"id", "name"},
}


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))


def test_shipped_file_is_what_derive_atlas_makes_from_the_upstream_export(shared_path: Any, tmp_path: Path) -> None:
    upstream = shared_path("reference/ATLAS.yaml")
    out = tmp_path / "atlas-derived.json"

    call_command("derive_atlas", str(upstream), "-o", str(out), stdout=io.StringIO())

    assert out.read_bytes() == SHIPPED_FILE.read_bytes()
    check = io.StringIO()
    call_command("derive_atlas", str(upstream), "--check", stdout=check)  # against the shipped file itself
    assert "is up to date" in check.getvalue()
    # No description, summary or procedure text of the export survives in the shipped file.
    prose = [t.description for t in parse_atlas(upstream.read_bytes()).techniques if len(t.description) > 60]
    text = SHIPPED_FILE.read_text(encoding="utf-8")
    assert len(prose) > 100 and not [p for p in prose if p[:60] in text]


def test_shipped_file_holds_ids_names_and_links_only(shipped: dict[str, Any]) -> None:
    matrix = shipped["matrices"][0]
    sections = [
        ("tactic", matrix["tactics"], TACTIC_ID),
        ("technique", matrix["techniques"], TECHNIQUE_ID),
        ("mitigation", matrix["mitigations"], MITIGATION_ID),
        ("case study", shipped["case-studies"], CASE_STUDY_ID),
    ]
    assert set(shipped) == ALLOWED_KEYS["top"] and set(matrix) == ALLOWED_KEYS["matrix"]
    for kind, rows, pattern in sections:
        for row in rows:
            assert set(row) <= ALLOWED_KEYS[kind] and {"id", "name"} <= set(row), row
            assert pattern.fullmatch(row["id"]) and 0 < len(row["name"]) <= 100, row
    assert [len(rows) for _, rows, _ in sections] == [16, 170, 35, 57]
    assert sum(1 for t in matrix["techniques"] if "subtechnique-of" in t) == 69


def test_shipped_file_carries_mitre_attribution_and_its_version(shipped: dict[str, Any]) -> None:
    assert shipped["version"] == "5.6.0"
    assert shipped["attribution"] == ATTRIBUTION
    assert "MITRE ATLAS" in ATTRIBUTION["work"] and ATTRIBUTION["copyright"] == "Copyright 2021-2025 MITRE"
    assert ATTRIBUTION["license"] == "Apache-2.0" and ATTRIBUTION["homepage"] == "https://atlas.mitre.org"
    assert ATTRIBUTION["upstream"].startswith("https://github.com/mitre-atlas/atlas-data")
    notice = (SHIPPED_FILE.parent / "ATLAS-NOTICE.md").read_text(encoding="utf-8")
    assert "Copyright 2021-2025 MITRE" in notice and "Apache License, Version 2.0" in notice
    assert "Licensed under the Apache License" in (SHIPPED_FILE.parent / "ATLAS-LICENSE.txt").read_text()


def test_shipped_file_is_canonical_so_regenerating_it_changes_nothing() -> None:
    text = SHIPPED_FILE.read_text(encoding="utf-8")

    assert derive(text.encode()) == text  # sorted by id, one object per line, stable


def test_every_atlas_id_the_library_files_cite_is_in_the_shipped_data() -> None:
    atlas = parse_atlas(SHIPPED_FILE.read_bytes())
    known = {t.atlas_id for t in atlas.techniques} | {m.atlas_id for m in atlas.mitigations}
    known |= {t.atlas_id for t in atlas.tactics}

    references = list(library_references(Path(settings.BASE_DIR)))

    assert len(references) > 50
    assert [(kind, code, i) for kind, code, i in references if i not in known] == []


def test_derive_command_refuses_bad_input_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("before")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"version: 1\nmatrices: [{id: OTHER}]")
    unordered = tmp_path / "rc.json"
    unordered.write_text(SHIPPED_FILE.read_text().replace('"version": "5.6.0"', '"version": "6.0-rc1"', 1))

    with pytest.raises(CommandError, match="no mapping with id 'ATLAS'. Nothing was written"):
        call_command("derive_atlas", str(bad), "-o", str(out), stdout=io.StringIO())
    with pytest.raises(CommandError, match="'6.0-rc1' is not dotted numbers"):
        call_command("derive_atlas", str(unordered), "-o", str(out), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("derive_atlas", str(tmp_path / "missing.yaml"), "-o", str(out), stdout=io.StringIO())
    assert out.read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "out.json", "rc.json"]  # no temporary left


def test_derive_check_fails_when_the_file_is_stale(tmp_path: Path) -> None:
    stale = tmp_path / "atlas-derived.json"
    stale.write_text(SHIPPED_FILE.read_text().replace("Extract AI Model", "Old name"))

    with pytest.raises(CommandError, match="is not what .* gives; run `manage.py derive_atlas"):
        call_command("derive_atlas", str(SHIPPED_FILE), "-o", str(stale), "--check", stdout=io.StringIO())
    out = io.StringIO()
    call_command("derive_atlas", str(SHIPPED_FILE), "-o", str(stale), stdout=out)
    assert stale.read_bytes() == SHIPPED_FILE.read_bytes()
    assert "ATLAS 5.6.0, 16 tactics, 170 techniques, 35 mitigations, 57 case studies" in out.getvalue()


def test_derive_writes_to_standard_output_with_a_dash() -> None:
    out = io.StringIO()
    call_command("derive_atlas", str(SHIPPED_FILE), "-o", "-", stdout=out)
    assert out.getvalue() == SHIPPED_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("version", "key"),
    [("5.6.0", (5, 6)), ("5.6", (5, 6)), ("5.10.0", (5, 10)), ("6", (6,)), ("0", (0,)), ("6.0-rc1", None), ("", None)],
)
def test_versions_order_numerically(version: str, key: tuple[int, ...] | None) -> None:
    assert version_key(version) == key


def test_a_later_minor_release_orders_after_an_earlier_one() -> None:
    later, earlier = version_key("5.10.0"), version_key("5.9.3")
    assert later is not None and earlier is not None and later > earlier  # as text, "5.10" < "5.9"
