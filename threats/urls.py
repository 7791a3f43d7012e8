"""Page routes of the threat library and findings (namespace ``threats``)."""

from django.urls import path, re_path

from threats import views, views_advice, views_diagrams, views_findings, views_risk

app_name = "threats"

urlpatterns = [
    path("library/threats/", views.threat_list, name="threat_list"),
    path("library/threats/<str:code>/", views.threat_detail, name="threat_detail"),
    path("library/controls/", views.control_list, name="control_list"),
    path("library/controls/<str:code>/", views.control_detail, name="control_detail"),
    path("systems/<slug:slug>/findings/", views.finding_list, name="finding_list"),
    path("systems/<slug:slug>/findings/<int:pk>/", views_findings.finding_detail, name="finding_detail"),
    path("systems/<slug:slug>/findings/<int:pk>/comments/", views_findings.finding_comment, name="finding_comment"),
    path(
        "systems/<slug:slug>/findings/<int:pk>/comments/<int:comment_id>/delete/",
        views_findings.finding_comment_delete,
        name="finding_comment_delete",
    ),
    path("systems/<slug:slug>/risk/panel/", views_risk.risk_panel, name="risk_panel"),
    path("systems/<slug:slug>/advice/", views_advice.advice_page, name="advice"),
    path("systems/<slug:slug>/advice/first/", views_advice.advice_summary, name="advice_summary"),
    path("systems/<slug:slug>/diagrams/panel/", views_diagrams.diagrams_panel, name="diagrams_panel"),
    re_path(
        r"^systems/(?P<slug>[-a-zA-Z0-9_]+)/diagrams/(?P<kind>dfd|attack-paths)\.svg$",
        views_diagrams.diagram_svg,
        name="diagram_svg",
    ),
    re_path(
        r"^systems/(?P<slug>[-a-zA-Z0-9_]+)/diagrams/(?P<kind>dfd|attack-paths)\.png$",
        views_diagrams.diagram_png_view,
        name="diagram_png",
    ),
]
