"""The Import page of Clients: upload a file, map its columns and see the preview, commit it
as a job with a progress bar, download the refused rows. Thin: the rules are in
clients/importing.py. Another tenant's import is a 404; importing needs MANAGE_CLIENTS, and a column
that posts money (the opening balance) is offered only to a role that may post it."""

import os
import tempfile

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.views import form_errors_from
from tenancy.mixins import TenantRequiredMixin
from tenancy.roles import Capability

from .import_files import MAX_FILE_BYTES, ImportFileError, too_large_message
from .importing import (
    REFUSED_SHOWN,
    client_import_commit,
    client_import_preview,
    client_import_upload,
    importable_fields,
)
from .models import ClientImport, ImportStatus, MatchBy


class ClientImportUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (.xlsx or .csv)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(too_large_message())
        return upload


class ClientImportMappingForm(forms.Form):
    """One choice per column of the file, and how clients are matched."""

    match_by = forms.ChoiceField(label=gettext_lazy("Match clients by"), choices=MatchBy.choices)

    def __init__(self, *args, job: ClientImport, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        choices = [("", _("— not imported —")), *importable_fields(job.tenant, actor).items()]
        self.columns = []
        for index, header in enumerate(job.headers):
            if not header:
                continue
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=job.mapping.get(header, "")
            )
            self.columns.append((name, header))
        self.fields["match_by"].initial = job.match_by

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data[name] for name, header in self.columns}


def _import_or_404(request, pk) -> ClientImport:
    return get_object_or_404(ClientImport.objects.for_tenant(request.tenant), pk=pk)


class ClientImportUploadView(TenantRequiredMixin, View):
    required_capability = Capability.MANAGE_CLIENTS
    template_name = "clients/client_import_upload.html"

    def get(self, request):
        return self._render(ClientImportUploadForm())

    def post(self, request):
        form = ClientImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(form, status=400)
        upload = form.cleaned_data["file"]
        with tempfile.NamedTemporaryFile(suffix="-import", delete=False) as handle:
            for block in upload.chunks():
                handle.write(block)
        try:
            job = client_import_upload(
                tenant=request.tenant, actor=request.user, path=handle.name, file_name=upload.name
            )
        except ImportFileError as error:
            form.add_error("file", error)
            return self._render(form, status=400)
        finally:
            os.unlink(handle.name)
        return redirect(job)

    def _render(self, form, status=200):
        recent = ClientImport.objects.for_tenant(self.request.tenant).order_by("-created_at")[:10]
        context = {"form": form, "recent": list(recent)}
        return render(self.request, self.template_name, context, status=status)


class ClientImportDetailView(TenantRequiredMixin, View):
    """The mapping and the preview (POST to preview again, or `commit`); while the commit
    runs, its progress (polled by HTMX: only the progress fragment)."""

    required_capability = Capability.MANAGE_CLIENTS
    template_name = "clients/client_import_detail.html"

    def get(self, request, pk):
        job = _import_or_404(request, pk)
        return self._render(job, ClientImportMappingForm(job=job, actor=request.user))

    def post(self, request, pk):
        job = _import_or_404(request, pk)
        form = ClientImportMappingForm(request.POST, job=job, actor=request.user)
        if not form.is_valid():
            return self._render(job, form, status=400)
        try:
            job = client_import_preview(
                job=job,
                mapping=form.mapping(),
                match_by=form.cleaned_data["match_by"],
                actor=request.user,
            )
            if "commit" in request.POST:
                job = client_import_commit(job=job, actor=request.user)
                messages.success(request, _("The import has started."))
        except ImportFileError as error:
            form.add_error(None, error)
            return self._render(job, form, status=400)
        except ValidationError as error:
            form_errors_from(form, error)
            return self._render(job, form, status=400)
        return redirect(job)

    def _render(self, job, form, status=200):
        context = {
            "job": job,
            "form": form,
            "refused": job.refused_rows()[:REFUSED_SHOWN],
            "previewed": job.status == ImportStatus.PREVIEWED,
        }
        template = self.template_name
        if getattr(self.request, "htmx", None):
            template = "clients/includes/import_progress.html"
        response = render(self.request, template, context, status=status)
        patch_vary_headers(response, ["HX-Request"])
        response["Cache-Control"] = "no-store"
        return response
