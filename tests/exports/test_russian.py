"""The export pages and texts in Russian: statuses, the rows' plural forms at 1, 2, 5, 11
and 21, the interruption reason, and the refused rows' headers."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from exports.models import ExportJob, ExportStatus
from tests.helpers import russian_plurals

pytestmark = pytest.mark.django_db


def progress(job, language="ru") -> str:
    with translation.override(language):
        return " ".join(
            render_to_string("exports/includes/job_progress.html", {"job": job}).split()
        )


@pytest.mark.parametrize(
    ("total", "text"),
    [*russian_plurals(("{n} строка", "{n} строки", "{n} строк")), (1234, "1 234 строки")],
)
def test_a_finished_export_counts_its_rows_in_russian(tenant, total, text):
    job = ExportJob(pk=1, tenant=tenant, status=ExportStatus.DONE, total=total, progress=total)
    html = progress(job)
    assert "Скачать" in html
    assert text.replace(" ", "\xa0") in html or text in html


@pytest.mark.parametrize(("total", "text"), [(1, "1 row"), (2, "2 rows"), (1234, "1,234 rows")])
def test_a_finished_export_counts_its_rows_in_english(tenant, total, text):
    job = ExportJob(pk=1, tenant=tenant, status=ExportStatus.DONE, total=total, progress=total)
    assert text in progress(job, "en")


def test_a_running_export_shows_its_progress_in_russian(tenant):
    job = ExportJob(pk=1, tenant=tenant, status=ExportStatus.RUNNING, total=21, progress=5)
    assert "5 из 21 строки" in progress(job)
    queued = ExportJob(pk=2, tenant=tenant, status=ExportStatus.QUEUED)
    assert "В очереди" in progress(queued)


@pytest.mark.parametrize(
    ("attempts", "word"), russian_plurals(("{n} раз ", "{n} раза", "{n} раз "))
)
def test_the_interruption_reason_counts_in_russian(attempts, word):
    with translation.override("en"):  # the sweep gives it up, in no one's language
        reason = ExportJob.lease_interrupted_reason(attempts)
    with translation.override("ru"):
        assert str(reason).startswith(f"Экспорт прерывался {word}")


def test_the_statuses_read_in_russian():
    with translation.override("ru"):
        assert [str(label) for _, label in ExportStatus.choices] == [
            "В очереди",
            "Выполняется",
            "Готово",
            "Ошибка",
        ]
