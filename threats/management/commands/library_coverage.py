"""``manage.py library_coverage [--json]``: which ATLAS techniques, RAND categories and OWASP ids the
library maps."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from threats.services.coverage import library_coverage


class Command(BaseCommand):
    help = (
        "Report the ATLAS techniques (AI Model Access, Collection, Exfiltration, Credential Access, "
        "Initial Access), RAND attack-vector categories and OWASP ids that the library maps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = library_coverage()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(asdict(report), indent=2))
            return
        for tactic in report.tactics:
            total = len(tactic.mapped) + len(tactic.unmapped)
            self.stdout.write(f"\n{tactic.tactic_id} {tactic.name}: {len(tactic.mapped)}/{total} techniques mapped")
            for atlas_id, name, codes in tactic.mapped:
                self.stdout.write(f"  [x] {atlas_id} {name}  <- {', '.join(codes)}")
            for atlas_id, name in tactic.unmapped:
                self.stdout.write(f"  [ ] {atlas_id} {name}")
        covered = len(report.rand_covered)
        self.stdout.write(f"\nRAND attack-vector categories: {covered}/{covered + len(report.rand_missing)}")
        for category, codes in report.rand_covered.items():
            self.stdout.write(f"  [x] {category}  <- {', '.join(codes)}")
        for category in report.rand_missing:
            self.stdout.write(f"  [ ] {category}")
        owasp_total = len(report.owasp_covered) + len(report.owasp_missing)
        self.stdout.write(f"\nOWASP ML 2023 / LLM 2025 ids: {len(report.owasp_covered)}/{owasp_total}")
        for owasp_id, codes in report.owasp_covered.items():
            self.stdout.write(f"  [x] {owasp_id}  <- {', '.join(codes)}")
        for owasp_id in report.owasp_missing:
            self.stdout.write(f"  [ ] {owasp_id}")
