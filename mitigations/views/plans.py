"""Plan pages: list, propose, detail (history, approvals, comments), edit, actions, delete.

Thin adapters: a form shapes input, one service writes. Another team's system is a 404
(``system_get``); a visible page the role may not use is a 403 (raised by the service, or
checked up front for GET forms); a workflow action the state does not allow is a 409 page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mitigations import selectors, workflow
from mitigations.forms import CommentForm, PlanEditForm, PlanForm, TransitionForm
from mitigations.models import MitigationPlan, PlanStatus
from mitigations.services.plans import plan_comment, plan_create, plan_delete, plan_update
from mitigations.services.transitions import plan_transition
from workbench.choices import choice_or_blank
from workbench.models import System
from workbench.permissions import TeamCapability
from workbench.selectors import system_get
from workbench.views.helpers import add_service_errors


def _editable_system(request: HttpRequest, slug: str) -> System:
    system = system_get(user=request.user, slug=slug)
    system.capabilities.require(TeamCapability.PROPOSE, "Only editors and admins propose or change plans.")
    return system


@login_required
@require_safe
def plan_list(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    status = choice_or_blank(request.GET.get("status", ""), PlanStatus)
    plans = list(selectors.plan_list(system=system, status=status))
    effects = selectors.plan_effects(plans)
    context = {
        "system": system,
        "rows": [(plan, effects.get(plan.pk)) for plan in plans],
        "status": status,
        "statuses": PlanStatus.choices,
        "can_edit": TeamCapability.PROPOSE in system.capabilities,
        "is_admin": TeamCapability.ADMINISTER_TEAM in system.capabilities,
        "totals": selectors.system_risk_totals(system),
    }
    return render(request, "mitigations/plan_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Propose a plan. A POST of just ``control`` (a code), ``findings`` and ``assets`` (ids) is a
    complete proposal: the attack-path advisor's "Propose" buttons post exactly that."""
    system = _editable_system(request, slug)
    if request.method == "POST":
        form = PlanForm(request.POST, system=system)
    else:
        initial = {
            k: request.GET.getlist(k) if k != "control" else request.GET.get(k)
            for k in ("control", "findings", "assets")
            if k in request.GET
        }
        form = PlanForm(initial=initial, system=system)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_create(actor=request.user, system=system, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Proposed {plan.control.code}; a risk owner will decide.")
            return redirect(plan)
    context = {"form": form, "system": system, "title": "Propose a mitigation"}
    return render(request, "mitigations/plan_form.html", context, status=400 if form.errors else 200)


def _detail_context(request: HttpRequest, plan: MitigationPlan, **extra: Any) -> dict[str, Any]:
    capabilities = plan.system.capabilities  # plan_get hands back the system_get system
    actor = workflow.ActorFacts(user_id=request.user.pk, role=capabilities.role)
    approvals = list(plan.approvals.all())
    return {
        "system": plan.system,
        "plan": plan,
        "effect": selectors.plan_effects([plan]).get(plan.pk),
        "effect_findings": selectors.plan_effect_findings(plan=plan),
        "actions": workflow.available_actions(plan.facts, actor),
        "can_edit": workflow.can_edit(plan.facts, actor),
        "can_comment": TeamCapability.COMMENT in capabilities,
        "approvals": approvals,
        "authors": selectors.plan_author_names(plan=plan),
        "history": list(selectors.plan_history(plan=plan)[:200]),
        "comments": list(plan.comments.all()),
        "comment_form": CommentForm(),
        "transition_form": TransitionForm(),
        **extra,
    }


@login_required
@require_safe
def plan_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    plan = selectors.plan_get(system=system, pk=pk)
    return render(request, "mitigations/plan_detail.html", _detail_context(request, plan))


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    system = _editable_system(request, slug)
    plan = selectors.plan_get(system=system, pk=pk)
    if plan.status not in workflow.EDITABLE:
        return _refused(request, plan, f"A {plan.status} plan can no longer be edited.", 409)
    initial = {
        "findings": list(plan.findings.all()),
        "assets": list(plan.assets.all()),
        "owner": plan.owner,
        "due_date": plan.due_date,
        "cost_one_off": plan.cost_one_off,
        "cost_yearly": plan.cost_yearly,
        "description": plan.description,
        "evidence_links": plan.evidence_links,
    }
    form = PlanEditForm(request.POST if request.method == "POST" else None, initial=initial, system=system)
    if request.method == "POST" and form.is_valid():
        try:
            updated = plan_update(actor=request.user, plan=plan, **form.service_kwargs())
        except workflow.InvalidTransition as exc:
            return _refused(request, plan, str(exc), 409)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if plan.status == workflow.APPROVED and updated.status == workflow.PROPOSED:
                messages.success(request, "Saved. The plan changed after its approval, so it needs a new decision.")
            else:
                messages.success(request, "Saved.")
            return redirect(updated)
    context = {"form": form, "system": system, "plan": plan, "title": f"Edit {plan.control.code} plan"}
    return render(request, "mitigations/plan_form.html", context, status=400 if form.errors else 200)


def _refused(request: HttpRequest, plan: MitigationPlan, message: str, status: int) -> HttpResponse:
    plan = selectors.plan_get(system=plan.system, pk=plan.pk)
    context = _detail_context(request, plan, error=message)
    return render(request, "mitigations/plan_detail.html", context, status=status)


@login_required
@require_POST
def plan_act(request: HttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    if action not in workflow.ACTIONS:
        raise Http404("No such action.")
    system = system_get(user=request.user, slug=slug)
    plan = selectors.plan_get(system=system, pk=pk)
    form = TransitionForm(request.POST, action=action)
    if not form.is_valid():
        return _refused(request, plan, " ".join(str(e) for errs in form.errors.values() for e in errs), 400)
    try:
        plan = plan_transition(actor=request.user, plan=plan, action=action, **form.cleaned_data)
    except workflow.StaleRevision as exc:
        return _refused(request, plan, str(exc), 409)
    except workflow.InvalidTransition as exc:
        return _refused(request, plan, f"{exc} (the plan is {exc.current}).", 409)
    except ValidationError as exc:
        return _refused(request, plan, " ".join(exc.messages), 400)
    messages.success(request, f"Plan {plan.get_status_display().lower()}.")
    return redirect(plan)


@login_required
@require_POST
def plan_comment_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    plan = selectors.plan_get(system=system, pk=pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _refused(request, plan, "Write a comment of 1 to 2000 characters.", 400)
    try:
        plan_comment(actor=request.user, plan=plan, body=form.cleaned_data["body"])
    except ValidationError as exc:
        return _refused(request, plan, " ".join(exc.messages), 400)
    return redirect(f"{plan.get_absolute_url()}#comments")


@login_required
@require_http_methods(["GET", "POST"])
def plan_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    system = _editable_system(request, slug)
    plan = selectors.plan_get(system=system, pk=pk)
    if request.method == "POST":
        try:
            plan_delete(actor=request.user, plan=plan)
        except workflow.InvalidTransition as exc:
            return _refused(request, plan, str(exc), 409)
        messages.success(request, "Plan deleted.")
        return redirect("mitigations:plan_list", slug=system.slug)
    return render(
        request, "workbench/confirm_delete.html", {"object": plan, "system": system, "kind_label": "mitigation plan"}
    )
