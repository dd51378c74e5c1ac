"""The client's address behind the TLS proxy of ``CXLOOP_HTTPS_PROXY``.

Behind a proxy every request comes from the proxy's address, so the sign-in lockout (per user name
and address), the audit log and the open link's rate limit would see one client. The proxy appends
the address it was reached from to ``X-Forwarded-For``; the last entry is the one it wrote, the
ones before it are whatever the client claimed and are ignored.
"""

import contextlib
import ipaddress

from django.conf import settings


class ProxyAddressMiddleware:
    """First in the chain: sets ``REMOTE_ADDR`` to the address the proxy saw, when there is one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.HTTPS_PROXY:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            last = forwarded.rsplit(",", 1)[-1].strip()
            # No header, or not an address: the connection's own address stays.
            with contextlib.suppress(ValueError):
                request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(last))
        return self.get_response(request)
