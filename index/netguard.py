"""Refuse to fetch from loopback, private, link-local and cloud-metadata addresses.

The check runs inside the HTTP client's DNS resolver, so the address that is
checked is the address that is connected to (no DNS-rebinding gap), and every
redirect hop goes through it again.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from .errors import SourceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
}


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why an address must not be fetched, or None when it is public."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 wrapped in IPv6 (mapped, 6to4, Teredo) is judged by the IPv4 inside.
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            return blocked_reason(inner) or (None if ip.is_global or ip.ipv4_mapped else
                                             "non-public address")
    if ip in _METADATA:
        return "cloud metadata address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_private:
        return "private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "reserved address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "shared address space"
    if not ip.is_global:
        return "non-public address"
    return None


class AddressPolicy:
    """Which addresses may be fetched: public ones, plus an explicit allow-list."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allowed_hosts: set[str] = set()
        self.allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow:
            entry = entry.strip()
            if not entry:
                continue
            try:
                self.allowed_networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.allowed_hosts.add(entry.lower())

    def check(self, host: str, address: str) -> None:
        """Raise SourceError(blocked_address) unless host/address may be fetched."""
        reason = blocked_reason(address)
        if reason is None or host.lower() in self.allowed_hosts:
            return
        ip = ipaddress.ip_address(address)
        if any(ip in net for net in self.allowed_networks):
            return
        raise SourceError("blocked_address", f"refused to fetch {host}: {reason} {address}")


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that drops every address the policy refuses."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        try:
            literal: Any = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            self._policy.check(host, str(literal))
            fam = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            return [ResolveResult(hostname=host, host=str(literal), port=port, family=fam,
                                  proto=0, flags=socket.AI_NUMERICHOST)]
        results = await self._inner.resolve(host, port, family)
        for result in results:
            self._policy.check(host, result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()
