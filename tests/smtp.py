"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), refusing any recipient named bounce@…

It offers PIPELINING (RFC 2920), as Postfix and most servers do, unless told not to; aiosmtpd
reads commands one after another from its stream, so it serves a pipelining client correctly.
"""

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self, *, pipelining: bool):
        self.messages: list[EmailMessage] = []
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:  # before the last line, "250 HELP"
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """``with SmtpServer() as smtp:`` runs a server; ``smtp.settings`` point Django's mail at it."""

    def __init__(self, *, pipelining: bool = True):
        self.pipelining = pipelining

    def __enter__(self):
        self.mailbox = Mailbox(pipelining=self.pipelining)
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.settings = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.controller.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
        }
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages
