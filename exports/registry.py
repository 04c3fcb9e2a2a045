"""The kinds of export. An app registers each of its exports from its AppConfig.ready():

    register_export_kind(ExportKind(key="billing.ledger", label="Transactions", build=...))

`build(job)` runs in the worker, inside the job's tenant scope, and returns an ExportSpec: the
columns, a row iterator (stream it: `values_list(...).iterator(chunk_size=2000)`), the number
of rows when cheap to know (for the progress bar), and the file name. It must rebuild the rows
through the same selectors / FilterSet and tenant scoping as the page that asked, from
`job.parameters`, so that the file holds what the operator saw.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.leases import WorkStopped

from .xlsx import XlsxColumn


@dataclass
class SheetSpec:
    """One sheet of a workbook that has several (e.g. one per statistics grouping)."""

    title: str
    columns: list[XlsxColumn]
    rows: Iterable


@dataclass
class ExportSpec:
    columns: list[XlsxColumn]
    rows: Iterable
    filename: str
    sheet_title: str = _("Export")
    total: int | None = None
    # When set, the workbook has these sheets, each with its own columns (columns and rows
    # above are then ignored).
    sheets: list[SheetSpec] | None = None


@dataclass(frozen=True)
class ExportKind:
    key: str
    label: str
    build: Callable  # (job) -> ExportSpec


EXPORT_KINDS: dict[str, ExportKind] = {}


class ExportGone(WorkStopped):
    """What the export was about no longer exists (e.g. the client); the job fails quietly,
    with the reason (a stored message)."""


def register_export_kind(kind: ExportKind) -> None:
    EXPORT_KINDS[kind.key] = kind


def get_export_kind(key: str) -> ExportKind | None:
    return EXPORT_KINDS.get(key)
