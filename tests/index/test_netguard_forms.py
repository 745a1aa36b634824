"""Every spelling of an address is classified by the guard itself: decimal, octal, hex, short
and mixed IPv4 forms, IPv4 inside IPv6, full-width digits and trailing dots. The guard names the
address each spelling stands for and refuses it with its reason before any HTTP client sees
the URL.

Classification is tested without connecting anywhere; the refusals end to end only against a
server on 127.0.0.1 that counts its requests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import LocalServer

from index.errors import SourceError
from index.fetch import Fetcher
from index.netguard import AddressPolicy, guarded_url, host_address
from index.settings import Settings


@pytest.mark.parametrize(("host", "address", "reason"), [
    ("2130706433", "127.0.0.1", "loopback address"),
    ("127.1", "127.0.0.1", "loopback address"),
    ("127.0.1", "127.0.0.1", "loopback address"),
    ("0x7f.0.0.1", "127.0.0.1", "loopback address"),
    ("0x7f000001", "127.0.0.1", "loopback address"),
    ("0X7F.0.0.1", "127.0.0.1", "loopback address"),
    ("0177.0.0.1", "127.0.0.1", "loopback address"),
    ("017700000001", "127.0.0.1", "loopback address"),
    ("0x7f.1", "127.0.0.1", "loopback address"),
    ("0177.0x0.1", "127.0.0.1", "loopback address"),
    ("0x7f.0.0.0x1", "127.0.0.1", "loopback address"),
    ("127.0.0.1.", "127.0.0.1", "loopback address"),
    ("127.255.255.254", "127.255.255.254", "loopback address"),
    ("0", "0.0.0.0", "unspecified address"),
    ("0x0", "0.0.0.0", "unspecified address"),
    ("10.1", "10.0.0.1", "private address"),
    ("0xa.0x1.0x2.0x3", "10.1.2.3", "private address"),
    ("3232235777", "192.168.1.1", "private address"),
    ("0xc0.0xa8.1.1", "192.168.1.1", "private address"),
    ("2852039166", "169.254.169.254", "cloud metadata address"),
    ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254", "cloud metadata address"),
    ("0251.0376.0251.0376", "169.254.169.254", "cloud metadata address"),
    ("169.254.43518", "169.254.169.254", "cloud metadata address"),
    ("[::ffff:127.0.0.1]", "::ffff:7f00:1", "loopback address"),
    ("::ffff:7f00:1", "::ffff:7f00:1", "loopback address"),
    ("[0:0:0:0:0:ffff:7f00:1]", "::ffff:7f00:1", "loopback address"),
    ("[::127.0.0.1]", "::7f00:1", "loopback address"),  # IPv4-compatible
    ("[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe", "cloud metadata address"),  # NAT64
    ("[::ffff:a9fe:a9fe]", "::ffff:a9fe:a9fe", "cloud metadata address"),
    ("[::1]", "::1", "loopback address"),
    ("[fe80::1%eth0]", "fe80::1%eth0", "link-local address"),
    ("\uff11\uff12\uff17.\uff10.\uff10.\uff11", "127.0.0.1", "loopback address"),  # full-width
    ("127\u30020\u30020\u30021", "127.0.0.1", "loopback address"),  # ideographic full stops
])
def test_every_spelling_is_classified_by_the_address_it_stands_for(host: str, address: str,
                                                                   reason: str) -> None:
    ip = host_address(host)
    assert ip is not None and str(ip) == address
    with pytest.raises(SourceError) as refused:
        AddressPolicy([]).check_host(host)
    assert refused.value.reason == "blocked_address"
    assert str(refused.value) == f"refused to fetch {host}: {reason} {address}"


@pytest.mark.parametrize(("host", "address"), [
    ("134744072", "8.8.8.8"), ("0x8.0x8.0x8.0x8", "8.8.8.8"), ("010.010.010.010", "8.8.8.8"),
    ("8.8.2056", "8.8.8.8"), ("1.1", "1.0.0.1"), ("0127.0.0.1", "87.0.0.1"),
])
def test_public_addresses_in_odd_spellings_are_named_and_allowed(host: str, address: str) -> None:
    assert str(host_address(host)) == address
    assert str(AddressPolicy([]).check_host(host)) == address


@pytest.mark.parametrize("host", ["example.com", "news.example.org", "0x7f.example", "1.2.3.com",
                                  "localhost", "xn--nxasmq6b.example", "a1.b2"])
def test_names_are_left_to_the_resolver(host: str) -> None:
    assert host_address(host) is None
    assert AddressPolicy([]).check_host(host) is None


@pytest.mark.parametrize("host", ["256.0.0.1", "1.2.3.4.5", "08.0.0.1", "0x100.0.0.1",
                                  "1..1", "4294967296", "1.2.65536", "0xg.1",
                                  "[::ffff:127.0.0.1.1]", "[12345::1]", "127.0.0.1%2e"])
def test_malformed_numeric_hosts_are_refused_as_bad_urls(host: str) -> None:
    with pytest.raises(SourceError) as refused:
        host_address(host)
    assert refused.value.reason == "bad_url"
    assert host in str(refused.value)


@pytest.mark.parametrize(("url", "reason", "address"), [
    ("http://2130706433:8080/feed.xml", "loopback address", "127.0.0.1"),
    ("http://127.1/", "loopback address", "127.0.0.1"),
    ("http://0x7f.1/x", "loopback address", "127.0.0.1"),
    ("http://[::ffff:127.0.0.1]:80/", "loopback address", "::ffff:7f00:1"),
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "loopback address", "127.0.0.1"),
    ("http://127\u30020\u30020\u30021/", "loopback address", "127.0.0.1"),
    ("https://0xa9fea9fe/latest/meta-data/", "cloud metadata address", "169.254.169.254"),
    ("http://user:pw@0177.1/", "loopback address", "127.0.0.1"),
])
def test_urls_are_refused_on_the_address_the_client_would_connect_to(url: str, reason: str,
                                                                     address: str) -> None:
    with pytest.raises(SourceError) as refused:
        guarded_url(url, AddressPolicy([]))
    assert refused.value.reason == "blocked_address"
    assert f"{reason} {address}" in str(refused.value)


def test_an_allowed_odd_spelling_is_rewritten_to_the_canonical_address() -> None:
    policy = AddressPolicy(["127.0.0.1"])
    assert guarded_url("http://127.1:8080/feed.xml?a=1", policy) == \
        "http://127.0.0.1:8080/feed.xml?a=1"
    assert guarded_url("http://2130706433/", policy) == "http://127.0.0.1/"
    # Canonical spellings and names are handed on exactly as written.
    assert guarded_url("http://127.0.0.1:8080/a%20b", policy) == "http://127.0.0.1:8080/a%20b"
    assert guarded_url("https://news.example/story?id=1", policy) == \
        "https://news.example/story?id=1"


# --------------------------------------------------------------------------- end to end on 127.0.0.1

def _spellings(port: int) -> list[str]:
    return [f"http://{h}:{port}/feed.xml" for h in
            ("2130706433", "127.1", "0x7f.1", "0177.0.0.1", "127.0.0.1.", "[::ffff:127.0.0.1]",
             "\uff11\uff12\uff17.\uff10.\uff10.\uff11")]


@pytest.mark.asyncio
async def test_refused_spellings_say_loopback_and_never_reach_the_server(
        net_settings: Callable[..., Settings], tmp_path: Path, http_server: LocalServer) -> None:
    http_server.page("/feed.xml", "<rss version='2.0'><channel><title>t</title></channel></rss>",
                     content_type="application/rss+xml")
    settings = net_settings(tmp_path / "data", allow_private=())
    async with Fetcher(settings.fetch) as fetcher:
        for url in _spellings(http_server.port):
            with pytest.raises(SourceError) as refused:
                await fetcher.get(url)
            assert refused.value.reason == "blocked_address", (url, str(refused.value))
            assert "loopback address" in str(refused.value), url
    assert http_server.total == 0, "a refused server was contacted"


@pytest.mark.asyncio
async def test_a_redirect_to_an_odd_spelling_of_loopback_is_not_followed(
        net_settings: Callable[..., Settings], tmp_path: Path, http_server: LocalServer) -> None:
    http_server.page("/secret", "internal", content_type="text/plain")
    start = http_server.redirect("/start", f"http://2130706433:{http_server.port}/secret")
    allowed = net_settings(tmp_path / "data", allow_private=("127.0.0.1",))
    async with Fetcher(allowed.fetch) as fetcher:
        result = await fetcher.get(start)
    # Allowed, the decimal spelling is fetched as 127.0.0.1 (what it stands for) ...
    assert result.status == 200 and result.body == b"internal"
    assert http_server.hits == {"/start": 1, "/secret": 1}
    assert http_server.hosts[-1] == f"127.0.0.1:{http_server.port}"

    # ... and not allowed, it is refused at the redirect without a request.
    http_server.hits.clear()
    localhost_only = net_settings(tmp_path / "data", allow_private=("localhost",))
    start = f"http://localhost:{http_server.port}/start"
    async with Fetcher(localhost_only.fetch) as fetcher:
        with pytest.raises(SourceError) as refused:
            await fetcher.get(start)
    assert "refused to fetch 2130706433: loopback address 127.0.0.1" in str(refused.value)
    assert http_server.hits == {"/start": 1}
