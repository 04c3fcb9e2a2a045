"""Start one or many simulated MikroTik routers (routers.simulator) on local ports.

    manage.py run_router_simulator                           # one router on 127.0.0.1:8728
    manage.py run_router_simulator --count 100 --base-port 18000 --sessions 1000
    manage.py run_router_simulator --from-db --churn 20      # the demo: the routers in the
                                                             # database that point at this host

With `--from-db`, every enabled Router whose host is local gets a simulator on its port (but
the demo's offline router, on a port left closed on purpose), with its API username and
password and a /ppp/secret for each of its PPPoE accounts (as Clientdesk would have provisioned
them; an adopted one as it was, under its `.id` and without Clientdesk's mark), and the secrets
the router had before Clientdesk (routers.demo.legacy_secrets: what the router's Adopt
existing secrets page offers); about `--online` of those seen online before are dialled in, and
with `--churn` sessions come and go every so many seconds, so that statuses change over time.
An account never seen online stays so (the demo's clients who have never connected), and the
demo's stalled router accepts connections but never answers (routers.demo).
Runs until interrupted. A port that is taken stops it with an error naming the port, so that
the demo never runs with a router silently missing.
"""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from routers.demo import CLOSED_PORT, legacy_secrets, simulated_hang
from routers.models import PppoeAccount, Router, secret_comment
from routers.simulator import SimulatedRouter

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Command(BaseCommand):
    help = "Run simulated RouterOS API servers on local ports."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--base-port", type=int, default=8728)
        parser.add_argument("--count", type=int, default=1, help="routers (ports base, base+1…)")
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="")
        parser.add_argument("--sessions", type=int, default=0, help="active sessions a router")
        parser.add_argument(
            "--name-template",
            default="r{router}u{n}",
            help="PPPoE usernames; {router} is the router's index, {n} the session's",
        )
        parser.add_argument("--from-db", action="store_true", help="serve the demo's routers")
        parser.add_argument("--online", type=float, default=0.7, help="share dialled in")
        parser.add_argument("--churn", type=float, default=0, help="seconds between changes")
        parser.add_argument("--latency", type=float, default=0.0)

    def handle(self, *args, **options):
        routers = self.from_db(options) if options["from_db"] else self.generated(options)
        if not routers:
            raise CommandError("No router to simulate.")
        for sim in routers:
            sim.latency = options["latency"]
            if options["churn"]:
                sim.churn(interval=options["churn"], share_online=options["online"])
        self.stdout.write(
            f"Simulating {len(routers)} router(s) on "
            + ", ".join(f"{s.host}:{s.port}" for s in routers[:5])
            + (" …" if len(routers) > 5 else "")
        )
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for sim in routers:
                sim.stop()

    def generated(self, options) -> list[SimulatedRouter]:
        routers = []
        for index in range(options["count"]):
            sim = SimulatedRouter(
                identity=f"sim-{index}",
                username=options["username"],
                password=options["password"],
            )
            for n in range(options["sessions"]):
                name = options["name_template"].format(router=index, n=n)
                sim.add_secret(name, password=f"pw{n}", service="pppoe")
                sim.connect_session(name)
            sim.start(options["host"], options["base_port"] + index)
            routers.append(sim)
        return routers

    def from_db(self, options) -> list[SimulatedRouter]:
        import random

        from django_scopes import scopes_disabled

        rng = random.Random(7)
        routers = []
        with scopes_disabled():
            local = Router.objects.filter(enabled=True, host__in=LOCAL_HOSTS)
            for router in local.exclude(port=CLOSED_PORT).order_by("port"):
                sim = SimulatedRouter(
                    identity=router.name.replace(" ", "-"),
                    username=router.username,
                    password=router.password,
                )
                sim.hang = simulated_hang(router.name)
                # The adopted secrets first, so that no other secret takes their `.id`.
                accounts = (
                    PppoeAccount.objects.filter(router=router)
                    .only(
                        "id",
                        "username",
                        "password_encrypted",
                        "profile",
                        "enabled",
                        "last_seen_at",
                        "router_secret_id",
                    )
                    .order_by("-router_secret_id", "pk")
                )
                legacy = {secret["name"]: secret for secret in legacy_secrets(router)}
                for account in accounts:
                    if account.router_secret_id:  # as the router had it, in Clientdesk's state
                        before = legacy.get(account.username, {})
                        origin = {"comment": before.get("comment", "")}
                        origin["service"] = before.get("service", "any")
                    else:
                        origin = {"comment": secret_comment(account.pk), "service": "pppoe"}
                    sim.add_secret(
                        account.username,
                        account.password,
                        item_id=account.router_secret_id or None,
                        profile=account.profile,
                        disabled="no" if account.enabled else "yes",
                        **origin,
                    )
                    if account.last_seen_at is None:
                        sim.never_dial_in.add(account.username)
                    elif account.enabled and rng.random() < options["online"]:
                        sim.connect_session(account.username)
                for secret in legacy.values():
                    if sim.secret(secret["name"]) is None:
                        sim.add_secret(**secret)
                try:
                    sim.start(options["host"], router.port)
                except OSError as exc:
                    for started in routers:
                        started.stop()
                    raise CommandError(
                        f"Port {router.port} for router {router.name} is taken ({exc}): stop "
                        "what listens there (another demo?) or seed again "
                        "(manage.py seed_demo --reset) to take free ports."
                    ) from exc
                routers.append(sim)
        return routers
