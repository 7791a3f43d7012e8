"""Page routes of the modelling app (namespace ``workbench``)."""

from django.urls import path

from workbench.views import elements, systems, tokens

app_name = "workbench"

urlpatterns = [
    path("", systems.dashboard, name="dashboard"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_remove, name="token_revoke"),
    path("systems/new/", systems.system_new, name="system_new"),
    path("systems/<slug:slug>/", systems.system_detail, name="system_detail"),
    path("systems/<slug:slug>/activity/", systems.system_activity, name="activity"),
    path("systems/<slug:slug>/edit/", systems.system_edit, name="system_edit"),
    path("systems/<slug:slug>/delete/", systems.system_remove, name="system_delete"),
    path("systems/<slug:slug>/<str:kind>/new/", elements.element_new, name="element_new"),
    path("systems/<slug:slug>/<str:kind>/<int:pk>/edit/", elements.element_edit, name="element_edit"),
    path("systems/<slug:slug>/<str:kind>/<int:pk>/delete/", elements.element_remove, name="element_delete"),
]
