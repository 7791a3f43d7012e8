"""``manage.py recompute SLUG [--sync]``: recompute a system's findings and risk, print the summary."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from threats.selectors_risk import risk_summary
from threats.services.recompute import enqueue_recompute, system_recompute
from workbench.models import System
from workbench.selectors import AmbiguousSystemSlug, system_by_slug


class Command(BaseCommand):
    help = "Recompute a system's findings and risk (queued, or in this process with --sync) and print JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The system's slug, or TEAM--SLUG when several teams use it.")
        parser.add_argument("--sync", action="store_true", help="Compute here instead of queueing a task.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            system = system_by_slug(qs=System.objects.select_related("team"), slug=options["slug"])
        except AmbiguousSystemSlug as exc:
            raise CommandError(str(exc)) from exc
        except Http404 as exc:
            raise CommandError(f"No system with slug {options['slug']!r}.") from exc
        if options["sync"]:
            outcome = system_recompute(system_id=system.pk)
            status = outcome.status
        else:
            enqueue_recompute(system.pk)
            status = "queued"
        system.refresh_from_db()
        summary = risk_summary(system=system)
        keys = (
            "version",
            "computed_version",
            "state",
            "totals",
            "appetite",
            "currency",
            "over_appetite",
            "heatmap",
            "seed",
            "draws",
        )
        self.stdout.write(
            json.dumps({"system": system.slug, "status": status, **{k: summary[k] for k in keys}}, indent=2)
        )
