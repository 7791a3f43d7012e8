"""API v1 routes of the threat app, included by ``workbench.api.urls``."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from threats.api.advice import SystemAdviceView
from threats.api.comments import FindingCommentDetailView, FindingCommentListView
from threats.api.diagrams import SystemAttackPathsView, SystemDiagramSvgView
from threats.api.risk import SystemRecomputeView, SystemRiskView
from threats.api.views import ControlViewSet, FindingDetailView, FindingListView, ThreatViewSet

router = SimpleRouter()
router.register("library/threats", ThreatViewSet, basename="library-threat")
router.register("library/controls", ControlViewSet, basename="library-control")

urlpatterns = [
    path("systems/<slug:slug>/findings/", FindingListView.as_view(), name="system-findings"),
    path("systems/<slug:slug>/findings/<int:pk>/", FindingDetailView.as_view(), name="system-finding-detail"),
    path(
        "systems/<slug:slug>/findings/<int:pk>/comments/",
        FindingCommentListView.as_view(),
        name="system-finding-comments",
    ),
    path(
        "systems/<slug:slug>/findings/<int:pk>/comments/<int:comment_id>/",
        FindingCommentDetailView.as_view(),
        name="system-finding-comment-detail",
    ),
    path("systems/<slug:slug>/risk/", SystemRiskView.as_view(), name="system-risk"),
    path("systems/<slug:slug>/recompute/", SystemRecomputeView.as_view(), name="system-recompute"),
    path("systems/<slug:slug>/attack-paths/", SystemAttackPathsView.as_view(), name="system-attack-paths"),
    re_path(
        r"^systems/(?P<slug>[-a-zA-Z0-9_]+)/diagrams/(?P<kind>dfd|attack-paths)\.svg$",
        SystemDiagramSvgView.as_view(),
        name="system-diagram-svg",
    ),
    path("systems/<slug:slug>/advice/", SystemAdviceView.as_view(), name="system-advice"),
    *router.urls,
]
