"""Canonical URL normalization: one article, one key."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

# Tracking parameters beyond courlan's own list.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "ga_", "hsa_", "oly_", "vero_", "_hs")
_TRACKING_KEYS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref", "ref_src", "ref_url",
     "cmpid", "mkt_tok", "smid", "smtyp", "guccounter", "s_cid", "ncid", "taid", "sr_share",
     "src", "source", "outputtype", "sh", "share", "spm", "wt_mc"}
)


def canonical_url(url: str) -> str:
    """Normalize a URL so that copies of one link compare equal.

    Lower-cases scheme and host, drops default ports, fragments, tracking
    parameters and a trailing slash, and sorts the remaining query.
    """
    url = url.strip()
    if not url:
        return url
    try:
        normalized = courlan.normalize_url(url, strict=False)
    except Exception:  # courlan raises assorted errors on odd input; keep the original
        normalized = url
    parts = urlsplit(normalized)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and not ((scheme == "http" and parts.port == 80)
                           or (scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_KEYS and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    if path == "/":
        path = ""
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def outlet_from_url(url: str) -> str:
    """A readable outlet name from a URL's host (www.theverge.com -> theverge.com)."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
