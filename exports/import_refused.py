"""The refused rows of a client import as .xlsx (the clients app sits below exports, whose
writer keeps every cell text and never a formula)."""

import tempfile

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views import View

from clients.models import ClientImport
from tenancy.mixins import TenantRequiredMixin
from tenancy.roles import Capability

from .xlsx import XlsxColumn, XlsxStreamWriter


class ClientImportRefusedView(TenantRequiredMixin, View):
    """The refused rows as .xlsx: the file's columns, then Line and Reason (in the reader's
    language), to fix and import again (the Line and Reason columns are not mapped by the
    next import)."""

    required_capability = Capability.MANAGE_CLIENTS

    def get(self, request, pk):
        job = get_object_or_404(ClientImport.objects.for_tenant(request.tenant), pk=pk)
        headers = [
            h or _("Column %(number)s") % {"number": i + 1} for i, h in enumerate(job.headers)
        ]
        columns = [XlsxColumn(h, "text") for h in headers]
        columns += [XlsxColumn(_("Line"), "integer"), XlsxColumn(_("Reason"), "text")]
        handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
        writer = XlsxStreamWriter(
            handle,
            columns=columns,
            title=_("Refused rows"),
            currency=request.tenant.currency,
            time_zone=request.tenant.zone,
        )
        writer.write_rows(_refused_rows(job, len(headers)))
        writer.close()
        handle.seek(0)
        name = job.file_name.rsplit(".", 1)[0]
        return FileResponse(handle, as_attachment=True, filename=f"{name}-refused.xlsx")


def _refused_rows(job: ClientImport, width: int):
    for row in job.refused_rows().iterator(chunk_size=2000):
        cells = [("" if c is None else str(c)) for c in row.cells][:width]
        cells += [""] * (width - len(cells))
        # Stored messages, read in the language of the operator downloading the file.
        reason = f"{row.field_label}: {row.reason}" if row.field else str(row.reason)
        yield [*cells, row.line, reason]
