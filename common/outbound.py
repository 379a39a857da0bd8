"""Outbound HTTP to addresses other people configure (webhooks, group-chat robots, SMS gateways).

Only http(s), only to hosts on the public internet unless the operator's allow-list names them
(``OUTBOUND_ALLOW``: comma-separated host names, IP addresses or CIDR ranges — an intranet SMS
gateway, ``127.0.0.1`` in tests). The check runs twice: on the resolved addresses before
connecting, and on the address actually connected to (so a DNS answer that changes in between
cannot reach an internal host). Connect and read time-outs always apply; redirects are not
followed. Every failure to reach a receiver — refused, unreachable, not allowed, timed out, no
such host — is the same :class:`Unreachable`, so a configured URL cannot be used as a scanner.
"""

import ipaddress
import os
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

SCHEMES = ("http", "https")


class Unreachable(Exception):
    """The receiver could not be reached; deliberately says nothing about why."""


class NotAllowed(ValueError):
    """A configured address that may never be called (checked when it is saved)."""


def _allow_list():
    names, networks = set(), []
    for item in os.environ.get("OUTBOUND_ALLOW", "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.add(item.rstrip("."))
    return names, networks


def _public(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def address_allowed(ip: str, host: str) -> bool:
    names, networks = _allow_list()
    if host.lower().rstrip(".") in names:
        return True
    address = ipaddress.ip_address(ip.split("%")[0])
    return _public(ip) or any(address in net for net in networks)


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise :class:`NotAllowed` for a URL that may not be called; ``resolve`` looks the host up
    (a name that does not resolve now is accepted — the call itself checks again)."""
    parts = urlsplit(str(url))
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise NotAllowed("应为 http:// 或 https:// 开头的地址")
    check_host(parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80), resolve=resolve)


def check_host(host: str, port: int, *, resolve: bool = True) -> None:
    try:
        addresses = [host] if _is_ip(host) else (_resolve(host, port) if resolve else [])
    except OSError:
        return
    if any(not address_allowed(ip, host) for ip in addresses):
        raise NotAllowed("不能指向内网、本机或保留地址（如确需使用内网接收方，请运维人员加入 OUTBOUND_ALLOW）")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


class _Guarded:
    """Checks the peer the socket really connected to, whatever DNS said a moment before."""

    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not address_allowed(peer, self.host):
            sock.close()
            raise Unreachable()
        return sock


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and the check
    adapter = _GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post(url: str, *, data: bytes, headers: dict, connect_timeout: float, read_timeout: float):
    """POST to a configured receiver; any failure to reach it raises :class:`Unreachable`."""
    try:
        check_url(url)
    except NotAllowed:
        raise Unreachable() from None
    with _session() as session:
        try:
            return session.post(url, data=data, headers=headers, timeout=(connect_timeout, read_timeout),
                                allow_redirects=False)
        except (requests.RequestException, Unreachable, OSError, ValueError):
            raise Unreachable() from None
