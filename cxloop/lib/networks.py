"""Lists of IP networks from a ``CXLOOP_*`` variable, and whether an address is in one.

``CXLOOP_METRICS_ALLOW`` names the machines that may read ``/metrics`` (a Prometheus server, a
monitoring subnet): single addresses or networks in CIDR notation, IPv4 or IPv6, separated by
commas.
"""

from __future__ import annotations

import ipaddress

from cxloop.lib.env import SettingError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(name: str, value: str | None) -> tuple[Network, ...]:
    """``10.0.0.5, 192.168.1.0/24, fd00::/8`` → networks (an address is a network of one);
    unset or empty gives none. A network with host bits set (``10.0.0.5/24``) is refused: it
    is most likely a typing error for ``10.0.0.0/24`` or ``10.0.0.5``."""
    if value is None or value.strip() == "":
        return ()
    networks = []
    for item in value.split(","):
        try:
            networks.append(ipaddress.ip_network(item.strip()))
        except ValueError:
            raise SettingError(
                name,
                "comma-separated addresses or networks such as 10.0.0.5,192.168.1.0/24,fd00::/8",
                value,
            ) from None
    return tuple(networks)


def is_in(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` (text, as in ``REMOTE_ADDR``) lies in one of ``networks``; text that
    is not an address lies in none. An IPv4 address seen as IPv6 (``::ffff:10.0.0.5``, from a
    dual-stack socket) is compared as the IPv4 address it is."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def is_loopback(address: str) -> bool:
    """Whether ``address`` is this machine's own (127.0.0.0/8, ::1, or ::ffff:127.x.x.x)."""
    return is_in(address, LOOPBACK)


LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
