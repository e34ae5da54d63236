"""The page action that starts learning an ICP draft in the background."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from icp.forms import LearnForm
from icp.learning_jobs import icp_learn_start
from icp.pages.versions import version_list
from tenancy.errors import DomainError
from tenancy.permissions import editor_required


@editor_required
@require_POST
def learn_start(request):
    """Queue a learn job from the list page's form and redirect to the job's progress page."""
    form = LearnForm(request.POST)
    if form.is_valid():
        try:
            job, created = icp_learn_start(
                tenant=request.tenant,
                actor=request.user,
                weighting=form.cleaned_data["weighting"],
                name=form.cleaned_data["name"] or None,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    if not form.is_valid():
        return version_list(request, learn_form=form, status=400)

    if created:
        messages.success(request, "Learning a new draft from closed deals has started.")
    else:
        messages.info(
            request,
            "A learning job was already queued or running, so no second one was started. "
            "This is its progress.",
        )
    return redirect("jobs:job_detail", pk=job.pk)
