"""``manage.py verify_audit [TEAM_SLUG ...]``: check the audit hash chains, name the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.models import Team
from workbench.services.audit import team_verify_audit


class Command(BaseCommand):
    help = "Verify every team's hash-chained audit record (or the named teams') and report the first broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("teams", nargs="*", help="Team slugs; all teams when omitted.")

    def handle(self, *args: Any, **options: Any) -> None:
        teams = Team.objects.order_by("slug")
        if options["teams"]:
            teams = teams.filter(slug__in=options["teams"])
            missing = set(options["teams"]) - set(teams.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"Unknown team(s): {', '.join(sorted(missing))}")
        broken = 0
        for team in teams:
            report = team_verify_audit(team=team)
            if report.ok:
                self.stdout.write(f"{team.slug}: ok, {report.checked} events")
            else:
                broken += 1
                self.stdout.write(
                    f"{team.slug}: BROKEN at event #{report.broken_sequence}: {report.reason} "
                    f"({report.checked} events verified before it)"
                )
        if broken:
            raise CommandError(f"{broken} team chain(s) broken.")
