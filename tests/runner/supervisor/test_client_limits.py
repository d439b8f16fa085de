"""Issue 9, item 4: hosted limits keyed by client address, not by browser session.

Pure parts (app/client_address.py, app/runner/supervisor/client_limits.py, the rate limiter) with
several sessions from one client and from several clients; then the real Runner in hosted mode: one
address with many sessions keeps to its queue cap and cannot take the kept slot, another address's
run starts at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from app.client_address import client_id, parse_networks
from app.config import load
from app.protocol import RunRequest
from app.runner.api.admission import admission_from_settings
from app.runner.api.runner import Runner
from app.runner.supervisor import client_limits
from tests.runner.supervisor.test_fairness import Background

PROXY = parse_networks("10.0.0.5, 192.168.0.0/16")


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("203.0.113.7", [], "203.0.113.7"),
    (None, [], "127.0.0.1"),  # Streamlit says None for a local peer
    ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),  # an untrusted peer's header is ignored
    ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),  # a trusted proxy's is believed
    ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # left of the client: forgeable
    ("10.0.0.5", ["198.51.100.1, 192.168.3.4"], "198.51.100.1"),  # through two trusted proxies
    ("10.0.0.5", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # repeated headers, in order
    ("10.0.0.5", ["not-an-address"], "10.0.0.5"),  # garbage: keyed by the proxy that passed it
    ("10.0.0.5", ["192.168.1.1"], "192.168.1.1"),  # all trusted: the leftmost
    ("2001:db8:1:2:aaaa::1", [], "2001:db8:1:2::/64"),  # one host holds a whole /64
    ("::ffff:203.0.113.9", [], "203.0.113.9"),
    ("10.0.0.5", ["[2001:db8::5]"], "2001:db8::/64"),
])
def test_the_client_is_the_first_address_no_trusted_proxy_owns(
    peer: str | None, forwarded: list[str], expected: str
) -> None:
    assert client_id(peer, forwarded, PROXY) == expected


def test_a_bad_trusted_proxy_setting_stops_the_app_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"PLAYGROUND_TRUSTED_PROXIES.*'10\.0\.0\.300'"):
        load({"PLAYGROUND_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.300"})


def _request(session: str, client: str | None, code: str = "print(1)") -> RunRequest:
    return RunRequest(code=code, session_id=session, client_id=client)


def test_hosted_rate_limit_holds_across_sessions_of_one_client() -> None:
    """The red team's case: with 1 run a minute, a second browser context ran at once."""
    admission = admission_from_settings(load({"PLAYGROUND_HOSTED": "1",
                                              "PLAYGROUND_RATE_PER_MINUTE": "1"}))
    assert admission.admit(_request("tab-1", "198.51.100.1")) is None
    refused = admission.admit(_request("tab-2", "198.51.100.1"))  # a new session, same address
    assert refused is not None and refused.status == "rejected"
    assert "for each address" in refused.message
    assert admission.admit(_request("tab-3", "198.51.100.2")) is None  # another client


def test_unhosted_limits_stay_per_session() -> None:
    """A room behind one NAT on a private server is many people: sessions, not addresses."""
    admission = admission_from_settings(load({"PLAYGROUND_RATE_PER_MINUTE": "1"}))
    assert admission.admit(_request("tab-1", "10.1.1.1")) is None
    assert admission.admit(_request("tab-2", "10.1.1.1")) is None
    assert admission.admit(_request("tab-1", "10.1.1.1")) is not None


@dataclass
class Queued:
    client_key: str | None


def test_queue_cap_and_kept_slots_as_pure_rules() -> None:
    a, b = "client:a", "client:b"
    assert client_limits.queue_full(a, [Queued(a), Queued(b), Queued(a)], 2)
    assert not client_limits.queue_full(b, [Queued(a), Queued(b), Queued(a)], 2)
    assert not client_limits.queue_full(None, [Queued(None)] * 9, 2)  # the CLI, the warm-up
    running = Counter({a: 1})
    assert not client_limits.may_start(a, running, free_slots=1, reserved=1)
    assert client_limits.may_start(a, running, free_slots=2, reserved=1)
    assert client_limits.may_start(b, running, free_slots=1, reserved=1)
    assert not client_limits.may_start(b, running, free_slots=0, reserved=1)
    order = [Queued(a), Queued(a), Queued(b)]
    assert client_limits.next_to_start(order, running, 1, 1) is order[2]
    assert client_limits.next_to_start(order[:2], running, 1, 1) is None


@pytest.mark.parametrize(("env", "slots", "reserved", "queued"), [
    ({}, 8, 0, 0),
    ({"PLAYGROUND_HOSTED": "1"}, 8, 2, 4),
    ({"PLAYGROUND_HOSTED": "1"}, 2, 1, 4),
    ({"PLAYGROUND_HOSTED": "1"}, 1, 0, 4),  # one slot: none can be kept
    ({"PLAYGROUND_RESERVED_SLOTS": "5", "PLAYGROUND_QUEUED_PER_CLIENT": "2"}, 4, 3, 2),
])
def test_settings_choose_the_rules(env: dict[str, str], slots: int, reserved: int,
                                   queued: int) -> None:
    config = load(env)
    assert client_limits.reserved_slots(config, slots) == reserved
    assert client_limits.queued_per_client(config) == queued


# -- the real Runner, hosted ---------------------------------------------------------------------

HOLD = "import time\nprint('holding', flush=True)\ntime.sleep(30)\n"


@pytest.fixture(scope="module")
def hosted_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    config = replace(load({"PLAYGROUND_HOSTED": "1"}), max_concurrent=2, prefork=1,
                     queue_size=8, queued_per_client=2, reserved_slots=1, rate_per_minute=1000,
                     timeout_s=6, max_timeout_s=6,
                     state_dir=str(tmp_path_factory.mktemp("hosted-state")))
    runner = Runner(config)
    runner.start()
    yield runner
    runner.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_many_sessions_of_one_address_cannot_take_every_slot(hosted_runner: Runner) -> None:
    """The red team's 18 sessions of busy loops: one address gets one slot and two queued runs;
    its next run is refused at once, and another address's run starts in the kept slot."""
    first = Background(hosted_runner, _request("a-1", "198.51.100.1", HOLD))
    assert first.running.wait(60) and first.result is None
    waiting = [Background(hosted_runner, _request(f"a-{i}", "198.51.100.1", HOLD))
               for i in (2, 3)]
    for run in waiting:
        assert run.queued.wait(30) and run.result is None  # a free slot, but it is kept
    refused = hosted_runner.run(_request("a-4", "198.51.100.1"))
    assert refused.status == "rejected" and "2 runs waiting" in refused.message
    other = hosted_runner.run(_request("b-1", "198.51.100.2"))
    assert other.status == "ok" and other.stdout == "1\n", other
    assert first.thread.is_alive()  # it ran while the address's first run held its slot
    for run in (first, *waiting):
        run.thread.join(60)
        assert run.result is not None and run.result.status == "timeout"
