"""Who is asking: the client's address, behind the reverse proxies the settings trust.

Logs, recent activity, the throttles and django-axes (AXES_CLIENT_IP_CALLABLE) all count
clients by this address, so one client's bad passwords cannot lock out another.
"""

import ipaddress
from collections.abc import Iterable

from django.conf import settings


def trusted_networks(values: Iterable[str]) -> tuple:
    """Parse DJANGO_TRUSTED_PROXIES: addresses or CIDR networks, IPv4 or IPv6."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def _is_trusted(address: str, networks: tuple) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_address(request) -> str:
    """The client's address; X-Forwarded-For counts only when the peer is a trusted proxy
    (settings.TRUSTED_PROXIES, parsed by trusted_networks), and then the right-most address
    not added by one of them."""
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    networks = settings.TRUSTED_PROXIES
    if forwarded and networks and _is_trusted(remote, networks):
        for candidate in reversed([part.strip() for part in forwarded.split(",")]):
            if not _is_trusted(candidate, networks):
                try:
                    return str(ipaddress.ip_address(candidate))
                except ValueError:
                    break
    return remote
