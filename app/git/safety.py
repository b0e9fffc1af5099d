"""Where a provider client may connect.

In multi-tenant mode a tenant chooses the base URL of its GitHub Enterprise or Azure DevOps
Server; a URL that resolves to this platform's own network (loopback, private, link-local,
carrier-grade NAT, the cloud metadata endpoint) would let a tenant make the worker probe it,
so it is refused. Single-tenant platforms may talk to anything the operator configures.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from app.git.types import Refused

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip in _METADATA
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)
    )


async def check_base_url(url: str, *, multi_tenant: bool) -> None:
    """Refuse a base URL a tenant may not point the platform at."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Refused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise Refused("a base URL may not carry credentials")
    if not multi_tenant:
        return
    if parts.scheme != "https":
        raise Refused("a base URL must use https")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise Refused(f"{parts.hostname} does not resolve ({exc.strerror or exc})") from None
    for info in infos:
        if is_internal(str(info[4][0])):
            raise Refused(
                f"{parts.hostname} resolves to an internal address; base URLs must be public"
            )
