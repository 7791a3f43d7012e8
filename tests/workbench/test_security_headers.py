"""Security headers: a strict CSP on every page, views' own policies kept, deploy checks clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/docs/"])
def test_pages_get_a_strict_policy_with_a_fresh_nonce(client, path):
    first, second = client.get(path), client.get(path)
    policy = directives(first["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]  # one nonce per response
    assert first["X-Frame-Options"] == "DENY"


def test_logged_in_system_page_has_no_inline_script_or_handler(client_as, elements):
    body = client_as("editor").get(f"/systems/{elements.system.slug}/").content.decode()
    assert "<script>" not in body and " onclick=" not in body and ' style="' not in body
    assert "vendor/cytoscape/cytoscape.min.js" in body and "vendor/alpinejs-csp/alpine-csp.min.js" in body


def test_the_editor_can_be_left_out_for_the_baseline(client_as, elements):
    body = client_as("editor").get(f"/systems/{elements.system.slug}/?editor=off").content.decode()
    assert "cytoscape.min.js" not in body and 'id="editor"' not in body


def test_a_view_that_sets_its_own_policy_keeps_it(rf):
    from django.http import HttpResponse

    from workbench.middleware.csp import ContentSecurityPolicyMiddleware

    def view(request):
        response = HttpResponse("<svg/>", content_type="image/svg+xml")
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    response = ContentSecurityPolicyMiddleware(view)(rf.get("/x.svg"))
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_templates_have_no_inline_scripts_styles_or_handlers():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.parts[-2] == "drf_spectacular":  # third-party page, nonce'd blocks
            continue
        text = path.read_text()
        for needle in ("<script>", "<style", ' style="', " onclick=", " onload=", "hx-on", "javascript:"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_check_deploy_is_clean_under_production_settings():
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-for-the-check",
        "ALLOWED_HOSTS": "workbench.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wb_f",
    }
    env.pop("SECURE_SSL_REDIRECT", None)  # the test plugin turns it off for the test client
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests (tests/e2e/conftest.py)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_cookies_are_secure_in_the_production_shape():
    env = {**os.environ, "DEBUG": "false", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wb_f"}
    env.pop("SECURE_COOKIES", None)
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.X_FRAME_OPTIONS)"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'workbench.settings'); "
            f"django.setup(); {code}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "True", "True", "DENY"], result.stderr
    assert settings.X_FRAME_OPTIONS == "DENY"
