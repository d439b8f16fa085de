"""Who sent a request, as far as the server can tell: the key of the hosted demo's limits.

A new browser session costs nothing, so limits that must hold against one person (the rate limit,
the queued runs, the slots) are keyed in hosted mode by the client's address instead: the
connection's peer as Streamlit reports it (st.context.ip_address), or, when that peer is a
trusted proxy (PLAYGROUND_TRUSTED_PROXIES), the address that proxy put in X-Forwarded-For.
Only trusted hops are believed: the header is read right to left, past trusted proxies, and the
first address no trusted proxy owns is the client (anything left of it may be forged). An IPv6
client is keyed by its /64, which one host usually holds whole. People behind one NAT share
their limits: the price of not trusting what a browser says about itself.

Pure functions, no streamlit: the app calls client_id with what st.context gives it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "127.0.0.1"  # Streamlit reports a local peer (a proxy on this host) as None


def parse_networks(text: str) -> list[Network]:
    """PLAYGROUND_TRUSTED_PROXIES: a comma list of addresses or networks (CIDR); ValueError
    names a bad entry."""
    networks: list[Network] = []
    for entry in (e.strip() for e in text.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as exc:
                raise ValueError(f"not an address or network: {entry!r}") from exc
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_id(peer: str | None, forwarded_for: Iterable[str], trusted: list[Network]) -> str:
    """The client's key: peer (None: loopback) unless it is a trusted proxy, then the rightmost
    X-Forwarded-For address that is not one (all headers, in order; each a comma list)."""
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    current = _address(peer or LOOPBACK)
    if current is None:
        return str(peer)[:64]
    while hops and any(current in network for network in trusted):
        previous = _address(hops.pop())
        if previous is None:  # garbage from a client: keep the proxy that passed it on
            break
        current = previous
    return _key(current)
