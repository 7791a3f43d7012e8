"""``manage.py verify_audit [TEAM_SLUG ...] [--anchor | --reseal] [--anchors PATH]``.

Checks every team's keyed audit chain (or the named teams') against its seals and against the
signed anchors kept outside the database, and names the first break. ``--anchor`` then appends
a fresh anchor of each verified chain; ``--reseal`` is the one-time upgrade of chains written
before migration 0008 (docs/audit-chain.md). ``--anchors`` reads (and writes) another copy of
the anchor file, e.g. the one shipped off the machine.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.models import Team
from workbench.services.audit import ChainReport, team_audit_reseal, team_verify_audit
from workbench.services.audit_anchor import AnchorBook, anchor_book_read, audit_anchor_write


class Command(BaseCommand):
    help = "Verify the teams' keyed audit chains against their anchors and report the first broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("teams", nargs="*", help="Team slugs; all teams when omitted.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--anchor", action="store_true", help="After verifying, append an anchor of each chain.")
        mode.add_argument(
            "--reseal", action="store_true", help="Verify chains written before migration 0008 and re-seal them."
        )
        parser.add_argument("--anchors", metavar="PATH", help="Anchor file to use instead of AUDIT_ANCHOR_PATH.")

    def handle(self, *args: Any, **options: Any) -> None:
        teams = list(Team.objects.order_by("slug"))
        if options["teams"]:
            wanted = set(options["teams"])
            teams = [team for team in teams if team.slug in wanted]
            missing = wanted - {team.slug for team in teams}
            if missing:
                raise CommandError(f"Unknown team(s): {', '.join(sorted(missing))}")
        book = anchor_book_read(options["anchors"])
        if options["reseal"]:
            broken = self._reseal(teams, book)
        else:
            broken = self._verify(teams, book, anchor=options["anchor"])
            if not options["teams"]:
                broken += self._orphans(book, {team.pk for team in teams})
        if broken:
            raise CommandError(f"{broken} team chain(s) or anchor line(s) broken.")

    def _verify(self, teams: list[Team], book: AnchorBook, *, anchor: bool) -> int:
        broken = 0
        verified: list[Team] = []
        for team in teams:
            report = team_verify_audit(team=team, book=book)
            if report.ok:
                verified.append(team)
                self.stdout.write(f"{team.slug}: ok, {report.checked} events, {report.anchors} anchors")
            else:
                broken += 1
                self.stdout.write(_broken_line(team.slug, report))
        if anchor and verified:
            run = audit_anchor_write(teams=verified, path=book.path)
            for written in run.written:
                self.stdout.write(f"{written.slug}: anchored at #{written.sequence} in {run.path}")
            for slug, reason in run.skipped.items():
                self.stdout.write(f"{slug}: not anchored, {reason}")
        return broken

    def _reseal(self, teams: list[Team], book: AnchorBook) -> int:
        broken = 0
        for team in teams:
            result = team_audit_reseal(team=team, book=book)
            if not result.ok:
                broken += 1
                self.stdout.write(f"{team.slug}: NOT re-sealed: {result.reason}")
            elif result.resealed == 0:
                self.stdout.write(f"{team.slug}: ok, {result.reason}")
            else:
                where = f", anchored at #{result.anchor.sequence}" if result.anchor else ""
                self.stdout.write(f"{team.slug}: re-sealed {result.resealed} events with the audit key{where}")
        return broken

    def _orphans(self, book: AnchorBook, team_ids: set[int]) -> int:
        """Anchors or bad lines naming no existing team: a chain wiped together with its team,
        or a line nobody with the key wrote."""
        broken = 0
        for team_id, anchors in sorted(book.anchors.items()):
            if team_id not in team_ids:
                broken += 1
                last = anchors[-1]
                self.stdout.write(
                    f"team #{team_id} ({last.slug}): BROKEN: the team is gone, but the anchor of {last.at} "
                    f"(anchor line {last.line}) says its chain had {last.sequence} events"
                )
        for problem in book.problems:
            if problem.team_id is None or problem.team_id not in team_ids:
                broken += 1
                self.stdout.write(f"{book.path}: BROKEN at anchor line {problem.line}: {problem.reason}")
        return broken


def _broken_line(slug: str, report: ChainReport) -> str:
    if report.broken_sequence is None:
        return f"{slug}: BROKEN: {report.reason}"
    return (
        f"{slug}: BROKEN at event #{report.broken_sequence}: {report.reason} "
        f"({report.checked} events verified before it)"
    )
