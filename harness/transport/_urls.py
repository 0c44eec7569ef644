"""Which image URLs a router may make the harness fetch.

A router's ``data[].url`` is an address chosen by an untrusted party. The
harness fetches one only when the profile's images are URLs, and only when
the address is public (or on the router's own host): otherwise a router
could make the harness probe the network it runs in (loopback, the
cloud metadata address, a private LAN), or send credentials embedded in the
URL. Hosts are normalised the way a socket library would read them, so
legacy spellings (``0x7f000001``, ``2130706433``, ``127.1``) are seen for
what they are.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx

__all__ = ["internal_address", "refusal", "same_origin"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _addresses(host: str) -> list[_Address]:
    """The addresses ``host`` names: an IP literal in any spelling ``inet_aton`` takes, else a DNS lookup."""
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        return [ipaddress.IPv4Address(socket.inet_aton(host))]  # 0x7f000001, 2130706433, 127.1
    except (OSError, ValueError):
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def _internal(address: _Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def refusal(url: str, *, router_host: str, allow_private: bool = False) -> str | None:
    """Why ``url`` must not be fetched, or ``None`` when it may be.

    Refused: anything but ``http``/``https``; a URL carrying ``user:password``
    (it would be sent as credentials); a host that does not resolve; a
    loopback, private, link-local, reserved or multicast address (RFC 6890),
    unless the host is ``router_host`` itself or resolves to its addresses
    (the router serving its own images) or ``allow_private`` is set (``--allow-private-image-urls``).
    Resolution happens here and again when connecting: a name that changes
    its answer in between (DNS rebinding) is not caught.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError, TypeError) as exc:
        return f"unusable URL ({type(exc).__name__})"
    if parsed.scheme not in ("http", "https"):
        return f"not an http(s) URL (scheme {parsed.scheme[:20]!r})"
    if parsed.userinfo:
        return "the URL carries user:password credentials; not sent"
    host = parsed.host
    if not host:
        return "the URL has no host"
    if host.lower() == router_host.lower().strip("[]"):
        return None
    addresses = _addresses(host)
    if not addresses:
        return f"host {host[:80]!r} does not resolve"
    if allow_private:
        return None
    internal = [a for a in addresses if _internal(a)]
    if internal and not set(internal) <= set(_addresses(router_host)):
        return (f"host {host[:80]!r} is {internal[0]}, an internal address that is not the router's "
                "(pass --allow-private-image-urls to fetch it)")
    return None


def internal_address(host: str) -> str | None:
    """The first loopback, private, link-local or reserved address ``host`` names, else ``None`` (public, or
    no answer from the resolver)."""
    return next((str(a) for a in _addresses(host) if _internal(a)), None)


def same_origin(url: httpx.URL, other: httpx.URL) -> bool:
    """Whether two URLs reach the same server: same scheme and port (defaults applied), and the same host or
    hosts that name a common address (``localhost`` and ``127.0.0.1``)."""
    def port(u: httpx.URL) -> int | None:
        return u.port or {"http": 80, "https": 443}.get(u.scheme)

    if url.scheme != other.scheme or port(url) != port(other):
        return False
    if url.host.lower() == other.host.lower():
        return True
    return bool(set(_addresses(url.host)) & set(_addresses(other.host)))
