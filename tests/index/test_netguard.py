"""The address guard: what it refuses (checked without connecting anywhere), and that a refused
fetch never reaches the server (checked against a counting server on 127.0.0.1)."""

from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from index.errors import SourceError
from index.fetch import Fetcher
from index.ingest import ingest
from index.netguard import AddressPolicy, GuardedResolver, blocked_reason

# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback address"),
    ("127.255.0.9", "loopback address"),
    ("::1", "loopback address"),
    ("::ffff:127.0.0.1", "loopback address"),
    ("10.1.2.3", "private address"),
    ("172.16.0.1", "private address"),
    ("192.168.1.10", "private address"),
    ("fd12:3456::1", "private address"),
    ("::ffff:192.168.0.1", "private address"),
    ("169.254.169.254", "cloud metadata address"),
    ("::ffff:169.254.169.254", "cloud metadata address"),
    ("169.254.170.2", "cloud metadata address"),
    ("100.100.100.200", "cloud metadata address"),
    ("fd00:ec2::254", "cloud metadata address"),
    ("169.254.10.20", "link-local address"),
    ("fe80::1", "link-local address"),
    ("100.64.0.1", "shared address space"),
    ("100.127.255.254", "shared address space"),
])
def test_non_public_addresses_are_refused_with_a_reason(address, reason):
    assert blocked_reason(address) == reason


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "224.0.0.251", "ff02::1", "240.0.0.1",
                                     "255.255.255.255", "192.0.2.1", "198.18.0.1"])
def test_unspecified_multicast_and_reserved_addresses_are_refused(address):
    assert blocked_reason(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
                                     "151.101.1.69", "100.63.255.255", "100.128.0.1"])
def test_public_addresses_are_allowed(address):
    assert blocked_reason(address) is None


def test_policy_allows_a_listed_network_and_nothing_else_private():
    policy = AddressPolicy(["127.0.0.1", "10.0.0.0/8"])
    policy.check("127.0.0.1", "127.0.0.1")
    policy.check("feeds.internal", "10.20.30.40")
    for host, address in [("127.0.0.2", "127.0.0.2"), ("intranet", "192.168.1.1"),
                          ("meta", "169.254.169.254"), ("v6", "::1")]:
        with pytest.raises(SourceError) as caught:
            policy.check(host, address)
        assert caught.value.reason == "blocked_address"
        assert address in str(caught.value)


def test_policy_allows_a_listed_host_name_case_insensitively():
    policy = AddressPolicy(["Feeds.Internal"])
    policy.check("feeds.internal", "10.0.0.5")
    policy.check("FEEDS.INTERNAL", "10.0.0.5")
    with pytest.raises(SourceError):
        policy.check("other.internal", "10.0.0.5")


def test_empty_policy_allows_public_addresses_only():
    policy = AddressPolicy([])
    policy.check("example.com", "93.184.216.34")
    with pytest.raises(SourceError):
        policy.check("example.com", "127.0.0.1")


class _StubResolver(AbstractResolver):
    """Answers every name with fixed addresses: DNS without the network."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.asked.append(host)
        return [ResolveResult(hostname=host, host=a, port=port,
                              family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                              proto=0, flags=0) for a in self.addresses]

    async def close(self) -> None:
        pass


@pytest.mark.asyncio
@pytest.mark.parametrize("addresses", [["10.0.0.7"], ["93.184.216.34", "169.254.169.254"],
                                       ["::1"], ["93.184.216.34", "192.168.0.3"]])
async def test_resolver_refuses_a_name_when_any_of_its_addresses_is_refused(addresses):
    resolver = GuardedResolver(AddressPolicy([]), _StubResolver(addresses))
    with pytest.raises(SourceError) as caught:
        await resolver.resolve("rebind.example", 80)
    assert caught.value.reason == "blocked_address"
    assert "rebind.example" in str(caught.value)


@pytest.mark.asyncio
async def test_resolver_passes_public_names_through():
    stub = _StubResolver(["93.184.216.34", "2606:2800:220:1::1"])
    resolver = GuardedResolver(AddressPolicy([]), stub)
    results = await resolver.resolve("example.com", 443)
    assert [r["host"] for r in results] == stub.addresses


@pytest.mark.asyncio
async def test_resolver_checks_ip_literals_without_asking_dns():
    stub = _StubResolver(["93.184.216.34"])
    resolver = GuardedResolver(AddressPolicy([]), stub)
    with pytest.raises(SourceError):
        await resolver.resolve("169.254.169.254", 80)
    assert stub.asked == []


# --------------------------------------------------------------------------- end to end on 127.0.0.1

def _feed(http_server) -> None:
    http_server.page("/feed.xml", "<?xml version='1.0'?><rss version='2.0'><channel><title>t"
                     "</title></channel></rss>", content_type="application/rss+xml")


@pytest.mark.asyncio
@pytest.mark.parametrize("spelling", ["127.0.0.1", "localhost", "0x7f000001", "[::ffff:127.0.0.1]",
                                      "0.0.0.0"])
async def test_unlisted_loopback_is_refused_before_any_request(tmp_path, encoder, net_settings,
                                                               http_server, spelling):
    _feed(http_server)
    url = f"http://{spelling}:{http_server.port}/feed.xml"
    summary = await ingest([url], net_settings(tmp_path / "data", allow_private=()), encoder)
    assert [(f["source"], f["reason"]) for f in summary.failures] == [(url, "blocked_address")]
    assert http_server.total == 0, "the refused server was contacted"


@pytest.mark.asyncio
@pytest.mark.parametrize("spelling", ["127.1", "2130706433", "017700000001"])
async def test_odd_spellings_of_loopback_never_reach_the_server(tmp_path, encoder, net_settings,
                                                                http_server, spelling):
    _feed(http_server)
    url = f"http://{spelling}:{http_server.port}/feed.xml"
    summary = await ingest([url], net_settings(tmp_path / "data", allow_private=()), encoder)
    assert [f["source"] for f in summary.failures] == [url]
    assert "\n" not in summary.failures[0]["message"]
    assert http_server.total == 0, "the refused server was contacted"


@pytest.mark.asyncio
async def test_redirect_from_an_allowed_host_to_a_refused_address_is_not_followed(
        tmp_path, encoder, net_settings, http_server):
    _feed(http_server)
    http_server.redirect("/start", http_server.url("/feed.xml"))  # to 127.0.0.1, not allowed
    start = f"http://localhost:{http_server.port}/start"
    summary = await ingest([start], net_settings(tmp_path / "data", allow_private=("localhost",)),
                           encoder)
    assert [f["reason"] for f in summary.failures] == ["blocked_address"]
    assert "127.0.0.1" in summary.failures[0]["message"]
    assert http_server.hits == {"/start": 1}


@pytest.mark.asyncio
@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml",
                                    "gopher://127.0.0.1:70/"])
async def test_redirect_to_a_non_http_scheme_is_refused(tmp_path, encoder, net_settings,
                                                        http_server, target):
    start = http_server.redirect("/start", target)
    summary = await ingest([start], net_settings(tmp_path / "data"), encoder)
    assert [f["reason"] for f in summary.failures] == ["bad_url"]
    assert http_server.hits == {"/start": 1}


@pytest.mark.asyncio
async def test_allow_listed_loopback_is_fetched(net_settings, tmp_path, http_server):
    _feed(http_server)
    async with Fetcher(net_settings(tmp_path / "data").fetch) as fetcher:
        result = await fetcher.get(http_server.url("/feed.xml"))
    assert result.status == 200 and b"<rss" in result.body
    assert http_server.hits == {"/feed.xml": 1}
