"""``manage.py library_coverage [--json]``: which ATLAS techniques, RAND attack vectors and OWASP ids
the library maps."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from threats.services.coverage import library_coverage


class Command(BaseCommand):
    help = (
        "Report the ATLAS techniques (AI Model Access, Collection, Exfiltration, Credential Access, "
        "Initial Access), RAND attack vectors (38, by category) and OWASP ids that the library maps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = library_coverage()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            document = asdict(report)
            document["rand_vectors_mapped"] = report.rand_vectors_mapped
            document["rand_vectors_missing"] = report.rand_vectors_missing
            self.stdout.write(json.dumps(document, indent=2))
            return
        for tactic in report.tactics:
            total = len(tactic.mapped) + len(tactic.unmapped)
            self.stdout.write(f"\n{tactic.tactic_id} {tactic.name}: {len(tactic.mapped)}/{total} techniques mapped")
            for atlas_id, name, codes in tactic.mapped:
                self.stdout.write(f"  [x] {atlas_id} {name}  <- {', '.join(codes)}")
            for atlas_id, name in tactic.unmapped:
                self.stdout.write(f"  [ ] {atlas_id} {name}")
        covered = len(report.rand_covered)
        total = len(report.rand_vectors)
        self.stdout.write(
            f"\nRAND attack vectors: {report.rand_vectors_mapped}/{total} mapped "
            f"({covered}/{covered + len(report.rand_missing)} categories)"
        )
        category = ""
        for vector in report.rand_vectors:
            if vector.category != category:
                category = vector.category
                self.stdout.write(f"  {category}")
            mark = "x" if vector.threats else " "
            mapped = f"  <- {', '.join(vector.threats)}" if vector.threats else ""
            self.stdout.write(f"    [{mark}] {vector.vector}{mapped}")
        owasp_total = len(report.owasp_covered) + len(report.owasp_missing)
        self.stdout.write(f"\nOWASP ML 2023 / LLM 2025 ids: {len(report.owasp_covered)}/{owasp_total}")
        for owasp_id, codes in report.owasp_covered.items():
            self.stdout.write(f"  [x] {owasp_id}  <- {', '.join(codes)}")
        for owasp_id in report.owasp_missing:
            self.stdout.write(f"  [ ] {owasp_id}")
