"""Refuse to fetch from loopback, private, link-local and cloud-metadata addresses.

A URL's host is judged before any HTTP client sees the URL (`guarded_url`): a numeric
host in any spelling a resolver accepts (decimal `2130706433`, octal `0177.0.0.1`, hex
`0x7f.1`, short `127.1`, mixed, a trailing dot, full-width digits, IPv4 inside IPv6)
is read as the address it stands for, refused with its reason, or handed on in its
canonical form. Names are checked inside the HTTP client's DNS resolver, so the address
that is checked is the address that is connected to (no DNS-rebinding gap), and every
redirect hop goes through both checks again.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable

import yarl
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


# IPv6 prefixes that carry an IPv4 address in their last 32 bits.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Dots as IDNA reads them: ideographic, full-width and half-width full stops.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")
_OCTAL = re.compile(r"0[0-7]+")
_DECIMAL = re.compile(r"[0-9]+")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address wraps (mapped, compatible, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # not :: or ::1
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour or (ip.teredo[1] if ip.teredo else None)


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why an address must not be fetched, or None when it is public."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 wrapped in IPv6 is judged by the IPv4 inside.
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return blocked_reason(inner) or (None if ip.is_global or ip.ipv4_mapped else
                                             "non-public address")
    if ip in _METADATA:
        return "cloud metadata address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_unspecified:  # connecting to 0.0.0.0 or :: reaches this machine
        return "unspecified address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_private:
        return "private address"
    if ip.is_multicast or ip.is_reserved:
        return "reserved address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "shared address space"
    if not ip.is_global:
        return "non-public address"
    return None


def _ipv4_number(part: str) -> int | None:
    """One part of a numeric IPv4 host: hex (0x1f), octal (017) or decimal; None if none."""
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part) and (part == "0" or not part.startswith("0")):
        return int(part)
    return None


def host_address(host: str) -> IPAddress | None:
    """The address a URL host stands for when it is numeric, in any spelling that a resolver
    or a browser reads as an address; None for a name (left to DNS).

    IPv4 follows the rules browsers and inet_aton share: one to four parts, each decimal,
    octal (leading 0) or hex (0x); the last part fills the remaining bytes (`127.1` is
    127.0.0.1, `2130706433` too); a trailing dot is allowed. A host whose last part is a
    number but which is not a valid address raises SourceError(bad_url).
    """
    text = host.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_DOTS)
    if text.startswith("[") or ":" in text:
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        try:
            return ipaddress.IPv6Address(inner)
        except ValueError:
            raise SourceError("bad_url", f"{host} is not a valid IPv6 address") from None
    if "%" in text:
        raise SourceError("bad_url", f"{host} is not a valid host name (it contains '%')")
    parts = text.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last_label = parts[-1]
    if not (_DECIMAL.fullmatch(last_label) or _HEX.fullmatch(last_label)):
        return None  # the last label is not a number: a name
    numbers = [_ipv4_number(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise SourceError("bad_url", f"{host} is not a valid IPv4 address")
    values = [n for n in numbers if n is not None]
    *leading, last = values
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(values)):
        raise SourceError("bad_url", f"{host} is not a valid IPv4 address (a part is too large)")
    value = last
    for i, n in enumerate(leading):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


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

    def check_host(self, host: str) -> IPAddress | None:
        """The address a numeric host stands for, once allowed (None for a name, which the
        resolver checks); SourceError when it is refused or malformed."""
        ip = host_address(host)
        if ip is not None:
            self.check(host, str(ip))
        return ip


def guarded_url(url: str, policy: AddressPolicy) -> str:
    """The URL to hand to the HTTP client: refused (SourceError) when its host is an address
    the policy refuses, in whatever spelling, and with the canonical address in place of an
    odd spelling of an allowed one. Hosts are read as the client reads them (full-width
    digits and ideographic dots become ASCII), so the judged host is the connected host.
    """
    try:
        parsed = yarl.URL(url)
        host = parsed.host
    except (ValueError, UnicodeError) as exc:
        raise SourceError("bad_url", f"the host name is not valid ({exc})") from None
    if not host:
        return url
    ip = policy.check_host(host)
    if ip is None or parsed.raw_host == str(ip):
        return url
    return str(parsed.with_host(str(ip)))


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that drops every address the policy refuses."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        literal = self._policy.check_host(host)  # a numeric host, in any spelling
        if literal is not None:
            fam = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            return [ResolveResult(hostname=host, host=str(literal), port=port, family=fam,
                                  proto=0, flags=socket.AI_NUMERICHOST)]
        results = await self._inner.resolve(host, port, family)
        for result in results:
            self._policy.check(host, result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()
