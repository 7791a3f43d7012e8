"""Page routes of the threat library and findings (namespace ``threats``)."""

from django.urls import path, re_path

from threats.views import advice, diagrams, findings, library, risk

app_name = "threats"

urlpatterns = [
    path("library/threats/", library.threat_list, name="threat_list"),
    path("library/threats/<str:code>/", library.threat_detail, name="threat_detail"),
    path("library/controls/", library.control_list, name="control_list"),
    path("library/controls/<str:code>/", library.control_detail, name="control_detail"),
    path("systems/<slug:slug>/findings/", library.finding_list, name="finding_list"),
    path("systems/<slug:slug>/findings/<int:pk>/", findings.finding_detail, name="finding_detail"),
    path("systems/<slug:slug>/findings/<int:pk>/comments/", findings.finding_comment, name="finding_comment"),
    path(
        "systems/<slug:slug>/findings/<int:pk>/comments/<int:comment_id>/delete/",
        findings.finding_comment_delete,
        name="finding_comment_delete",
    ),
    path("systems/<slug:slug>/risk/panel/", risk.risk_panel, name="risk_panel"),
    path("systems/<slug:slug>/advice/", advice.advice_page, name="advice"),
    path("systems/<slug:slug>/advice/first/", advice.advice_summary, name="advice_summary"),
    path("systems/<slug:slug>/diagrams/panel/", diagrams.diagrams_panel, name="diagrams_panel"),
    re_path(
        r"^systems/(?P<slug>[-a-zA-Z0-9_]+)/diagrams/(?P<kind>dfd|attack-paths)\.svg$",
        diagrams.diagram_svg,
        name="diagram_svg",
    ),
    re_path(
        r"^systems/(?P<slug>[-a-zA-Z0-9_]+)/diagrams/(?P<kind>dfd|attack-paths)\.png$",
        diagrams.diagram_png_view,
        name="diagram_png",
    ),
]
