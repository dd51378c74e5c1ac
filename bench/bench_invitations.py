"""How long 100,000 invitation e-mails take: rendered, claimed and handed to a local SMTP server.

    python bench/bench_invitations.py [--count 100000] [--database-url postgres://…]

Builds a throw-away database (SQLite in a temporary data directory unless --database-url is
given; a PostgreSQL database is dropped and re-created), makes the contacts and invitations, starts
an aiosmtpd server in another process that counts what it accepts, and times
``send_invitations_now`` over all of them — the work of the ``send_invitations`` task.
"""

import argparse
import multiprocessing
import os
import socket
import sys
import tempfile
import time


def smtp_sink(port: int, received, ready) -> None:
    import asyncio
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs every SMTP command

    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    asyncio.run(asyncio.sleep(10**6))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    port = free_port()
    os.environ["CXLOOP_DATA_DIR"] = tempfile.mkdtemp(prefix="cxloop-bench-")
    os.environ["CXLOOP_EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    if args.database_url:
        os.environ["CXLOOP_DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "cxloop.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cxloop.customers.models import Contact, Customer
    from cxloop.surveys.distribution import send_invitations_now
    from cxloop.surveys.models import Invitation, Question, Survey
    from cxloop.surveys.services import new_invitation

    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    now = timezone.now()
    survey = Survey.objects.create(
        name_ru="Опрос клиентов",
        name_en="Client survey",
        kind="relationship",
        languages=["ru", "en"],
    )
    Question.objects.create(survey=survey, order=1, kind="nps", text_ru="?", text_en="?")
    customer = Customer.objects.create(external_id="bench", name="Bench")
    contacts = Contact.objects.bulk_create(
        Contact(
            customer=customer,
            name=f"Клиент {i}",
            email=f"c{i}@bench.example",
            consent=True,
            language="ru" if i % 4 else "en",
        )
        for i in range(args.count)
    )
    Invitation.objects.bulk_create(
        (new_invitation(survey, contact, now=now) for contact in contacts), batch_size=5000
    )
    ids = list(Invitation.objects.values_list("pk", flat=True))

    received, ready = multiprocessing.Value("l", 0), multiprocessing.Event()
    sink = multiprocessing.Process(target=smtp_sink, args=(port, received, ready), daemon=True)
    sink.start()
    ready.wait(10)
    started = time.perf_counter()
    outcomes = send_invitations_now(ids, now=timezone.now())
    elapsed = time.perf_counter() - started
    time.sleep(0.5)
    sink.terminate()
    sent = Invitation.objects.exclude(sent_at=None).count()
    print(f"database: {connection.vendor}; invitations: {len(ids):,}; outcomes: {dict(outcomes)}")
    print(f"handed to SMTP in {elapsed:.1f} s = {len(ids) / elapsed:,.0f} e-mails/s")
    print(f"the server accepted {received.value:,}; invitations marked sent: {sent:,}")
    sys.exit(0 if received.value == len(ids) == sent else 1)


if __name__ == "__main__":
    main()
