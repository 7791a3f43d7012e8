"""``manage.py load_demo``: create (idempotently) the demo team, users and LLM platform system."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from workbench.demo import load_demo


class Command(BaseCommand):
    help = "Create or complete the demo team, its users and the demo system; prints the login."

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = load_demo(password=os.environ.get("DEMO_PASSWORD") or None)
        system = outcome["system"]
        self.stdout.write(f"Demo system '{system.name}' (/systems/{system.slug}/), {outcome['created']} new elements.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in as 'demo' (admin), 'demo-editor', 'demo-risk' (risk owner) or 'demo-viewer' "
                f"with password: {outcome['password']}"
            )
        )
