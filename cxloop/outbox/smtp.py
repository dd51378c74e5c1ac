"""``mailer()``: e-mails as bytes over one connection of the configured backend.

SMTP gets the bytes straight through ``smtplib`` with its commands pipelined (RFC 2920) when the
server offers it: two round trips a message instead of four. Django's other backends (console,
file, locmem) get the same bytes wrapped as a message.
"""

import re
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address

# An address Django's parser (35 µs a call) would pass through unchanged.
_PLAIN_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.ASCII)


def sender() -> str:
    """The From header of every e-mail (``CXLOOP_EMAIL_FROM``)."""
    return sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")


def address(email: str) -> str:
    return email if _PLAIN_ADDRESS.fullmatch(email) else sanitize_address(email, "utf-8")


class _Prebuilt(EmailMessage):
    """Prepared bytes for Django's other backends (console, file, locmem)."""

    def __init__(self, to: str, data: bytes):
        super().__init__(to=[to])
        self.data = data

    def message(self) -> Message:
        return message_from_bytes(self.data)


_LINE_STARTING_WITH_DOT = re.compile(rb"^\.", re.MULTILINE)


def _pipelined(smtp: smtplib.SMTP, sender: str, to: str, data: bytes) -> None:
    """``smtp.sendmail(sender, [to], data)`` in two round trips instead of four: MAIL, RCPT and
    DATA go out together (RFC 2920 PIPELINING), then the content; refusals raise the same."""
    smtp.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{to}>\r\nDATA\r\n")
    mail, rcpt, start = smtp.getreply(), smtp.getreply(), smtp.getreply()
    if start[0] != 354:
        smtp.rset()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(*mail, sender)
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({to: rcpt})
        raise smtplib.SMTPDataError(*start)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    smtp.send(_LINE_STARTING_WITH_DOT.sub(b"..", data) + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def _one_by_one(smtp: smtplib.SMTP, sender: str, to: str, data: bytes) -> None:
    smtp.sendmail(sender, [to], data)


@contextmanager
def mailer() -> Iterator[Callable[[str, bytes], None]]:
    """``send(to, data)`` over one connection of the configured backend: SMTP gets the bytes
    straight through ``smtplib`` (its refusals raise ``smtplib`` errors), the others a message."""
    backend = get_connection()
    with backend:
        if not isinstance(backend, SmtpBackend):
            yield lambda to, data: backend.send_messages([_Prebuilt(to, data)])
            return
        smtp, envelope_sender = backend.connection, parseaddr(sender())[1]
        smtp.ehlo_or_helo_if_needed()
        send = _pipelined if smtp.has_extn("pipelining") else _one_by_one
        yield lambda to, data: send(smtp, envelope_sender, address(to), data)


def permanent(error: smtplib.SMTPException) -> bool | None:
    """Whether the server refused this message for good (5xx: True), for now (4xx: False), or
    ``None`` when the error is the connection's, not the message's."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code != 421:
        return error.smtp_code >= 500
    return None
