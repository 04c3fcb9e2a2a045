"""The demo's "Core North" has secrets from before Clientdesk: its Adopt existing secrets page
offers them, adopting them works, and once the simulator starts again from the database the
adopted secrets are served as they were (no mark, the same `.id`) and polled without errors."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_scopes import scopes_disabled

from routers import demo
from routers.management.commands.run_router_simulator import Command as SimulatorCommand
from routers.models import PppoeAccount, Router
from routers.poller import poll_routers
from tests.seeded_demo import move_simulated_routers_to_free_ports

pytestmark = pytest.mark.django_db


def simulate():
    return SimulatorCommand(stdout=StringIO(), stderr=StringIO()).from_db(
        {"online": 0.5, "host": "127.0.0.1"}
    )


def stop(sims):
    for sim in sims:
        sim.stop()


def test_the_demo_offers_its_legacy_secrets_and_keeps_them_once_adopted(
    client, seeded_demo, django_capture_on_commit_callbacks
):
    tenant = seeded_demo.restore()["isp"]
    move_simulated_routers_to_free_ports(tenant)
    with scopes_disabled():
        router = Router.objects.get(tenant=tenant, name=demo.LEGACY_ROUTER)
    client.force_login(get_user_model().objects.get(username="isp-manager"))
    url = reverse("routers:router_adopt", kwargs={"pk": router.pk})

    sims = simulate()
    try:
        page = client.get(url)
        proposals = {p.secret.name: p for p in page.context["proposals"]}
        assert {"legacy-01", "legacy-02", "legacy-03", "legacy-vpn"} <= set(proposals)
        assert [n for n, p in proposals.items() if p.adoptable] == [
            "legacy-01",
            "legacy-02",
            "legacy-03",
        ]
        refused = [str(p.refused) for p in proposals.values() if not p.adoptable]
        assert any("already the PPPoE account" in r for r in refused)
        review = client.post(url, {"all": "on"})
        confirm = {"selection": review.context["selection"], "confirm": "on"}
        with django_capture_on_commit_callbacks(execute=True):  # the job, run eagerly
            started = client.post(url, confirm)
        assert started.status_code == 302
        done = client.get(started.url)
        job = done.context.get("job") if done.context else None
        assert "3 secrets adopted, 3 of them as new clients." in done.content.decode(), (
            f"review {review.context['selection']!r}, job {job and job.__dict__!r}"
        )
        sim = next(s for s in sims if s.port == router.port)
        served = {name: sim.secret(name) for name in ("legacy-01", "legacy-02", "legacy-03")}
    finally:
        stop(sims)

    sims = simulate()  # the demo started again: from the database
    try:
        sim = next(s for s in sims if s.port == router.port)
        for name, before in served.items():
            assert sim.secret(name) == before
        assert poll_routers(deadline_seconds=10).polled >= 2
        with scopes_disabled():
            adopted = PppoeAccount.objects.filter(router=router).exclude(router_secret_id="")
            assert sorted((a.username, str(a.sync_error)) for a in adopted) == [
                ("legacy-01", ""),
                ("legacy-02", ""),
                ("legacy-03", ""),
            ]
        left = client.get(url).context["proposals"]
        assert all(not p.adoptable for p in left)
    finally:
        stop(sims)
