"""API v1 routes of the mitigations app, nested under a system; included by ``workbench.api.urls``.

Names: ``system-plan-list`` (POST here proposes a plan), ``system-plan-detail``,
``system-plan-approve`` (and ``-reject``, ``-implement``, ``-verify``, ``-withdraw``, ``-comments``),
``system-acceptance-list|detail|revoke`` and ``system-audit``.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from mitigations.api.views import AcceptanceViewSet, AuditEventListView, PlanViewSet

router = SimpleRouter()
router.register(r"systems/(?P<slug>[-a-zA-Z0-9_]+)/plans", PlanViewSet, basename="system-plan")
router.register(r"systems/(?P<slug>[-a-zA-Z0-9_]+)/acceptances", AcceptanceViewSet, basename="system-acceptance")

urlpatterns = [
    path("systems/<slug:slug>/audit/", AuditEventListView.as_view(), name="system-audit"),
    *router.urls,
]
