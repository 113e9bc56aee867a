"""Outbound HTTP to URLs a tenant chose (webhooks), guarded against SSRF where the connection is made.

The host is resolved ONCE; every address it resolves to must be public (see `address_problem`), and
the TCP connection goes to one of those vetted addresses — never to a second lookup, so a DNS answer
that changes between the check and the connect (rebinding) cannot reach an internal address. TLS
keeps the hostname: SNI, certificate verification and the Host header are the URL's host. Proxies
from the environment are not used, redirects are not followed (a 3xx is a failed delivery).

Only the `local` stage, outside Lambda, may call loopback (the developer's own receiver); no stage
setting can switch the guard off in a deployed function (AWS_LAMBDA_FUNCTION_NAME is set by Lambda)."""
from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
from urllib.parse import urlsplit

from ..config import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_RESPONSE_BYTES = 64 * 1024  # read (and drop) at most this much of a receiver's answer

# Ranges ipaddress.is_global misses (Python 3.11 calls them global) or that carry another address.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_EXTRA_BLOCKED = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/96",            # IPv4-compatible ::a.b.c.d (and :: and ::1)
    "::ffff:0:0/96",    # IPv4-mapped
    "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
    "64:ff9b::/96", "64:ff9b:1::/48",  # NAT64
    "100::/64", "2001::/32",  # discard-only, Teredo
    "2001:db8::/32", "2002::/16",  # documentation, 6to4
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"))


class Refused(Exception):
    """The URL may not be called; the message says why (it goes into the delivery log)."""


def loopback_allowed() -> bool:
    """The local stack's receiver on 127.0.0.1; never in a deployed function, whatever STAGE says."""
    return get_settings().stage == "local" and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.version != 6:
        return None
    value = int(ip)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client address (the server's is checked by the range)
    if ip in _NAT64[0] or value >> 32 == 0xFFFF0000 or (value >> 32 == 0 and value > 1):  # NAT64, SIIT, ::a.b.c.d
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip in _NAT64[1]:  # local-use NAT64 prefix: the IPv4 sits in bits 64..95 for a /96 (RFC 6052)
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why this address may not be called, or None when it is a public unicast address."""
    if allow_loopback and ip.is_loopback:
        return None
    inner = embedded_ipv4(ip)
    if inner is not None:
        return f"{ip} embeds the IPv4 address {inner} (NAT64, 6to4, Teredo, mapped or compatible IPv6)"
    if (not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback
            or ip.is_link_local or ip.is_unspecified or (ip.version == 6 and ip.is_site_local)
            or any(ip.version == n.version and ip in n for n in _EXTRA_BLOCKED)):
        return f"{ip} is not a public address"
    return None


def check_url(url: str, *, allow_loopback: bool | None = None) -> tuple[str, str, int, str]:
    """(scheme, host, port, path+query) of a URL that may be called, judged without DNS; Refused else.
    https only (http only to loopback where loopback is allowed); no credentials in the URL."""
    loopback = loopback_allowed() if allow_loopback is None else allow_loopback
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"malformed URL: {exc}") from None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL are not allowed (use the signature header)")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Refused(f"{host[:60]} is not a valid host name") from None
    literal = _literal(host)
    is_loopback_name = host == "localhost" or host.endswith(".localhost")
    if literal is not None:
        problem = address_problem(literal, allow_loopback=loopback)
        if problem:
            raise Refused(f"{host} is a non-public address: {problem}")
    elif is_loopback_name and not loopback:
        raise Refused(f"{host} is a non-public address")
    local_target = loopback and (is_loopback_name or (literal is not None and literal.is_loopback))
    if parts.scheme != "https" and not (parts.scheme == "http" and local_target):
        raise Refused("webhook URLs must be https")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def resolve(host: str, port: int, *, allow_loopback: bool = False) -> list[tuple[int, tuple]]:
    """(family, sockaddr) of every address of `host`, looked up once; Refused when any is not public
    (one internal answer among public ones refuses the lot: round-robin tricks gain nothing)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise Refused(f"cannot resolve {host}") from None
    vetted: list[tuple[int, tuple]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise Refused(f"{host} resolves to an unsupported address family")
        try:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError:
            raise Refused(f"{host} resolves to a malformed address") from None
        problem = address_problem(ip, allow_loopback=allow_loopback)
        if problem:
            raise Refused(f"{host} resolves to a non-public address ({problem})")
        vetted.append((family, (str(ip), *sockaddr[1:])))
    if not vetted:
        raise Refused(f"cannot resolve {host}")
    return vetted


def open_socket(family: int, sockaddr: tuple, timeout: float) -> socket.socket:
    """A TCP connection to exactly this (numeric, vetted) address: no name lookup happens here."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
        return sock
    except BaseException:
        sock.close()
        raise


class _PinnedMixin:
    """http.client connection whose connect() uses the vetted addresses instead of resolving self.host."""

    _addresses: list[tuple[int, tuple]]

    def _pinned_socket(self) -> socket.socket:
        last: OSError | None = None
        for family, sockaddr in self._addresses:
            try:
                return open_socket(family, sockaddr, self.timeout)  # type: ignore[attr-defined]
            except OSError as exc:
                last = exc
        raise last or OSError("no address to connect to")


class PinnedHTTPConnection(_PinnedMixin, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, addresses: list[tuple[int, tuple]], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = self._pinned_socket()


class PinnedHTTPSConnection(_PinnedMixin, http.client.HTTPSConnection):
    """TLS to a vetted address with the URL's host name for SNI and certificate verification."""

    def __init__(self, host: str, port: int, addresses: list[tuple[int, tuple]], timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        context = context or ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses

    def connect(self) -> None:
        sock = self._pinned_socket()
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        except BaseException:
            sock.close()
            raise


def post(url: str, body: bytes, headers: dict, timeout: float, *,
         context: ssl.SSLContext | None = None) -> tuple[int | None, str | None]:
    """POST once: (HTTP status, error text or None). Refused URLs and addresses come back as
    (None, reason) without any connection being made; a 3xx is a failure (redirects not followed)."""
    loopback = loopback_allowed()
    try:
        scheme, host, port, path = check_url(url, allow_loopback=loopback)
        addresses = resolve(host, port, allow_loopback=loopback)
    except Refused as exc:
        return None, str(exc)[:300]
    if scheme == "https":
        conn: http.client.HTTPConnection = PinnedHTTPSConnection(host, port, addresses, timeout, context)
    else:
        conn = PinnedHTTPConnection(host, port, addresses, timeout)
    try:
        conn.request("POST", path, body=body, headers=_plain(headers))
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, (str(exc) or type(exc).__name__)[:300]
    finally:
        conn.close()
    if 200 <= status < 300:
        return status, None
    if 300 <= status < 400:
        return status, f"HTTP {status} (redirects are not followed)"
    return status, f"HTTP {status}"


def _plain(headers: dict) -> dict:
    return {str(k): str(v) for k, v in headers.items() if str(k).lower() != "host"}


def refusal(url: str) -> str | None:
    """Why `url` may not be called now (static checks, then one lookup), or None. For reporting only:
    delivery (post) checks and connects in one step, so nothing can change in between."""
    loopback = loopback_allowed()
    try:
        _scheme, host, port, _path = check_url(url, allow_loopback=loopback)
        resolve(host, port, allow_loopback=loopback)
    except Refused as exc:
        return str(exc)
    return None


__all__ = ["Refused", "loopback_allowed", "embedded_ipv4", "address_problem", "check_url", "resolve", "post", "refusal",
           "PinnedHTTPSConnection", "PinnedHTTPConnection"]
