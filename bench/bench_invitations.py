"""How long 100,000 invitation e-mails take: rendered, claimed and handed to a local SMTP server.

    python bench/bench_invitations.py [--count 100000] [--sinks 2] [--database-url postgres://…]

Builds a throw-away database (SQLite in a temporary data directory unless --database-url is
given; a PostgreSQL database is emptied), makes the contacts and invitations, starts aiosmtpd
servers in --sinks other processes sharing one port (SO_REUSEPORT: the kernel spreads the
connections over them) and offering PIPELINING as Postfix does, and times queuing the e-mails in
the outbox (what ``distribute`` adds to creating the invitations) and the worker's pass that sends
them (``cxloop.outbox.delivery.send_due``: claims, builds the bytes, sends over eight connections
and records each message sent in its own transaction). An aiosmtpd process spends about 0.3 ms of
CPU on a message, so one alone would hold the figure near its own limit rather than the sender's.

Afterwards the servers report every recipient they accepted: the run fails unless each invitation
was received exactly once and marked sent, and unless a sample of the received e-mails parses with
the contact's address, the subject in the contact's language, the contact's name and a link that
opens the survey, and carries its HTML part.
"""

import argparse
import multiprocessing
import os
import re
import sys
import tempfile
import time

from machine import cpu_seconds, free_port

SAMPLE_EVERY = 5_000  # received e-mails kept whole for checking, per server
QUESTION = {"ru": "Порекомендуете ли вы нас?", "en": "Would you recommend us?"}
SUBJECT = {"ru": "Опрос клиентов", "en": "Client survey"}


def smtp_sink(port: int, ready, stop, results) -> None:
    """An aiosmtpd server on ``port`` until ``stop`` is set; then it puts the recipients it
    accepted and its sample of e-mails on ``results``."""
    import asyncio
    import logging

    from aiosmtpd.smtp import SMTP

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs every SMTP command

    class Sink:
        def __init__(self):
            self.recipients: list[str] = []
            self.samples: list[bytes] = []

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            responses.insert(-1, "250-PIPELINING")  # aiosmtpd serves it; Postfix offers it
            return responses

        async def handle_DATA(self, server, session, envelope):
            if len(self.recipients) % SAMPLE_EVERY == 0:
                self.samples.append(envelope.content)
            self.recipients += envelope.rcpt_tos
            return "250 OK"

    async def serve() -> None:
        sink, loop = Sink(), asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(sink, hostname="bench-sink"), "127.0.0.1", port, reuse_port=True
        )
        ready.set()
        await loop.run_in_executor(None, stop.wait)
        server.close()
        results.put((sink.recipients, sink.samples))

    asyncio.run(serve())


def check_sample(raw: bytes) -> None:
    """Raise unless ``raw`` is a well-formed invitation whose link opens its contact's survey."""
    from email import message_from_bytes, policy

    from django.test import Client

    from cxloop.surveys.models import Invitation
    from cxloop.surveys.services import hash_token

    message = message_from_bytes(raw, policy=policy.default)
    invitation = Invitation.objects.select_related("contact").get(contact__email=message["To"])
    contact = invitation.contact
    body = message.get_body(preferencelist=("plain",)).get_content()
    page = message.get_body(preferencelist=("html",)).get_content()
    path, token = re.search(r"http://127\.0\.0\.1:8000(/s/([^/\s]+)/)", body).groups()
    problems = [
        message["Subject"] != SUBJECT[contact.language] and "subject",
        contact.name not in body and "name",
        f'href="http://127.0.0.1:8000{path}"' not in page and "HTML part",
        hash_token(token) != invitation.token_hash and "token",
        f"/u/{token}/" not in message["List-Unsubscribe"] and "unsubscribe link",
        not (message["Message-ID"] and message["Date"]) and "Message-ID or Date",
    ]
    page = Client(HTTP_HOST="127.0.0.1").get(path)
    if page.status_code != 200 or QUESTION[contact.language] not in page.text:
        problems.append(f"the link gave {page.status_code}")
    if any(problems):
        raise SystemExit(f"{contact.email}: wrong {', '.join(p for p in problems if p)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--sinks", type=int, default=2, help="aiosmtpd processes")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    port = free_port()
    data_dir = tempfile.TemporaryDirectory(prefix="cxloop-bench-")  # removed at exit
    os.environ["CXLOOP_DATA_DIR"] = data_dir.name
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
    from cxloop.outbox.delivery import send_due
    from cxloop.outbox.models import OutboxMessage
    from cxloop.outbox.services import enqueue_references
    from cxloop.surveys.distribution import INVITATION
    from cxloop.surveys.models import Invitation, Question, Survey
    from cxloop.surveys.services import new_invitation

    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    now = timezone.now()
    survey = Survey.objects.create(
        name_ru=SUBJECT["ru"], name_en=SUBJECT["en"], kind="relationship", languages=["ru", "en"]
    )
    Question.objects.create(
        survey=survey, order=1, kind="nps", text_ru=QUESTION["ru"], text_en=QUESTION["en"]
    )
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
    pairs = list(Invitation.objects.values_list("pk", "contact__email"))
    ids = [pk for pk, _ in pairs]
    queuing = time.perf_counter()
    enqueue_references(INVITATION, pairs, now=now)
    queuing = time.perf_counter() - queuing

    stop, results = multiprocessing.Event(), multiprocessing.Queue()
    sinks = []
    for _ in range(args.sinks):
        ready = multiprocessing.Event()
        sink = multiprocessing.Process(
            target=smtp_sink, args=(port, ready, stop, results), daemon=True
        )
        sink.start()
        ready.wait(10)
        sinks.append(sink)
    sink_cpu = sum(cpu_seconds(sink.pid) for sink in sinks)
    own_cpu, started = time.process_time(), time.perf_counter()
    outcomes = send_due()
    elapsed = time.perf_counter() - started
    own_cpu = time.process_time() - own_cpu
    sink_cpu = sum(cpu_seconds(sink.pid) for sink in sinks) - sink_cpu
    stop.set()
    recipients, samples = [], []
    for _ in sinks:
        accepted, sampled = results.get(timeout=60)
        recipients += accepted
        samples += sampled
    for sink in sinks:
        sink.join()
    for raw in samples:
        check_sample(raw)
    sent = Invitation.objects.exclude(sent_at=None).count()
    settled = OutboxMessage.objects.filter(state="sent").count()
    per_message = 1e6 / len(ids)
    print(f"database: {connection.vendor}; invitations: {len(ids):,}; outcomes: {dict(outcomes)}")
    print(f"queued in the outbox in {queuing:.1f} s")
    print(f"handed to SMTP in {elapsed:.1f} s = {len(ids) / elapsed:,.0f} e-mails/s")
    print(
        f"CPU: sender {own_cpu:.1f} s ({own_cpu * per_message:.0f} µs/e-mail), "
        f"SMTP servers ({args.sinks} processes) {sink_cpu:.1f} s "
        f"({sink_cpu * per_message:.0f} µs/e-mail)"
    )
    print(
        f"the servers accepted {len(recipients):,} e-mails for {len(set(recipients)):,} "
        f"recipients; invitations marked sent: {sent:,}; outbox messages sent: {settled:,}; "
        f"samples checked: {len(samples)}"
    )
    expected = {f"c{i}@bench.example" for i in range(args.count)}
    once = len(recipients) == len(ids) == sent == settled
    sys.exit(0 if once and set(recipients) == expected else 1)


if __name__ == "__main__":
    main()
