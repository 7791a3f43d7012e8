"""Page routes of the mitigations app (namespace ``mitigations``).

``mitigations:plan_new`` (``/systems/<slug>/plans/new/``) accepts a POST of ``control`` (a code),
``findings`` and ``assets`` (ids, repeated) and files a proposed plan in one request.
"""

from django.urls import path

from mitigations.views import plans, review

app_name = "mitigations"

urlpatterns = [
    path("mitigations/inbox/", review.inbox, name="inbox"),
    path("teams/<slug:team_slug>/webhook/", review.webhook_edit, name="webhook_edit"),
    path("systems/<slug:slug>/plans/", plans.plan_list, name="plan_list"),
    path("systems/<slug:slug>/plans/new/", plans.plan_new, name="plan_new"),
    path("systems/<slug:slug>/plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("systems/<slug:slug>/plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("systems/<slug:slug>/plans/<int:pk>/delete/", plans.plan_remove, name="plan_delete"),
    path("systems/<slug:slug>/plans/<int:pk>/comment/", plans.plan_comment_add, name="plan_comment"),
    path("systems/<slug:slug>/plans/<int:pk>/do/<slug:action>/", plans.plan_act, name="plan_act"),
    path("systems/<slug:slug>/acceptances/", review.acceptance_list, name="acceptance_list"),
    path("systems/<slug:slug>/acceptances/<int:pk>/revoke/", review.acceptance_end, name="acceptance_revoke"),
    path("systems/<slug:slug>/findings/<int:finding_id>/accept/", review.acceptance_new, name="acceptance_new"),
    path("systems/<slug:slug>/audit/", review.audit_list, name="audit_list"),
]
