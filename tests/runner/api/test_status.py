"""The runner's status, typed (app/runner/api/status.py): what the System page reads."""

from __future__ import annotations

from app.runner.api.status import HostStatus, RunnerStatus

LOCAL = {"platform": "cpu", "device_kind": None, "device_count": 1, "idle": 2, "running": 0,
         "queued": 0, "runs_total": 5, "notes": ["a note"], "layers": {"net_ns": True},
         "limits": {"timeout_s": 10.0}, "policy": {"runs at once": "2"}, "fatal": "",
         "supervisor_pid": 123, "warm": {"ok": True}}


def test_the_fields_are_typed_and_the_rest_is_kept_as_details() -> None:
    status = RunnerStatus.read(LOCAL)
    assert (status.platform, status.device_count, status.idle, status.runs_total) == \
        ("cpu", 1, 2, 5)
    assert status.layers == {"net_ns": True} and status.hosts is None and not status.error
    assert status.details == {"supervisor_pid": 123, "warm": {"ok": True}}
    assert status.counters == {"idle": 2, "running": 0, "queued": 0, "runs_total": 5}


def test_a_field_of_the_wrong_type_is_an_error_not_an_exception() -> None:
    for bad in ({"idle": True}, {"idle": "2"}, {"notes": "text"}, {"layers": {"net_ns": 1}},
                {"hosts": [{"platform": "cpu"}]}):  # a host row without its name
        status = RunnerStatus.read({**LOCAL, **bad})
        assert status.error.startswith("The runner's status is malformed"), bad
        assert status.counters == {} and status.layers is None


def test_an_unanswered_status_keeps_its_error() -> None:
    status = RunnerStatus.read({"running_supervisor": False, "error": "no answer"})
    assert status.error == "no answer" and status.layers is None and status.counters == {}


def test_the_wire_form_reads_back_the_same() -> None:
    remote = RunnerStatus(platform="gpu", idle=1, hosts=[HostStatus("a", slots=2)],
                          details={"runner": "remote"})
    assert RunnerStatus.read(remote.as_dict()) == remote
    assert RunnerStatus.read(RunnerStatus.read(LOCAL).as_dict()) == RunnerStatus.read(LOCAL)
