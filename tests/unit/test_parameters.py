"""decoy.parameters: SSM values cached on decoy.clock, every failure one ParameterError."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from decoy.parameters import ParameterError, ParameterStore

STORE = {f"/decoy/p{i}": f"value-{i}" for i in range(12)}


class FakeSsm:
    """GetParameter and GetParameters over STORE, counting calls; `fail` raises once."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail: Exception | None = None

    def _maybe_fail(self) -> None:
        if self.fail is not None:
            failure, self.fail = self.fail, None
            raise failure

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
        self.calls.append((Name,))
        self._maybe_fail()
        if Name not in STORE:
            raise ClientError({"Error": {"Code": "ParameterNotFound"}}, "GetParameter")
        return {"Parameter": {"Name": Name, "Value": STORE[Name]}}

    def get_parameters(self, Names: list[str], WithDecryption: bool) -> dict[str, Any]:
        assert 1 <= len(Names) <= 10  # botocore's ssm model: Names has at most 10 members
        self.calls.append(tuple(Names))
        self._maybe_fail()
        return {"Parameters": [{"Name": n, "Value": STORE[n]} for n in Names if n in STORE],
                "InvalidParameters": [n for n in Names if n not in STORE]}


@pytest.fixture
def ssm() -> FakeSsm:
    return FakeSsm()


def test_a_value_is_read_again_once_max_age_has_passed_on_the_handlers_clock(ssm, at):
    store = ParameterStore(ssm)
    at(1000.0)
    assert store.get("/decoy/p0", max_age=30) == "value-0"
    at(1029.0)
    store.get("/decoy/p0", max_age=30)
    assert len(ssm.calls) == 1
    at(1030.0)
    store.get("/decoy/p0", max_age=30)
    assert len(ssm.calls) == 2


def test_max_age_zero_always_reads(ssm, at):
    store = ParameterStore(ssm)
    store.get("/decoy/p0", max_age=30)
    store.get("/decoy/p0", max_age=0)
    assert len(ssm.calls) == 2


def test_clear_cache_forgets_every_value(ssm, at):
    store = ParameterStore(ssm)
    store.get_many(["/decoy/p0", "/decoy/p1"], max_age=900)
    store.clear_cache()
    store.get_many(["/decoy/p0", "/decoy/p1"], max_age=900)
    assert len(ssm.calls) == 2


@pytest.mark.parametrize("failure", [
    ClientError({"Error": {"Code": "ThrottlingException"}}, "GetParameter"),
    ClientError({"Error": {"Code": "InternalServerError"}}, "GetParameter"),
    EndpointConnectionError(endpoint_url="https://ssm.eu-west-3.amazonaws.com"),
])
def test_every_ssm_failure_is_one_parameter_error(ssm, at, failure):
    store = ParameterStore(ssm)
    ssm.fail = failure
    with pytest.raises(ParameterError):
        store.get("/decoy/p0", max_age=30)
    ssm.fail = failure
    with pytest.raises(ParameterError):
        store.get_many(["/decoy/p0"], max_age=30)


def test_an_absent_parameter_is_an_error_for_get_and_left_out_by_get_many(ssm, at):
    store = ParameterStore(ssm)
    with pytest.raises(ParameterError, match="/decoy/absent"):
        store.get("/decoy/absent", max_age=30)
    assert store.get_many(["/decoy/p0", "/decoy/absent"], max_age=30) == {"/decoy/p0": "value-0"}
    store.get_many(["/decoy/p0", "/decoy/absent"], max_age=30)  # absent: asked again
    assert ssm.calls[-1] == ("/decoy/absent",)


def test_get_many_reads_only_what_is_not_cached_ten_names_a_call(ssm, at):
    store = ParameterStore(ssm)
    store.get("/decoy/p0", max_age=30)
    values = store.get_many(list(STORE), max_age=30)
    assert values == STORE
    assert [len(call) for call in ssm.calls] == [1, 10, 1]  # p0 cached; 11 left: 10 + 1


def test_a_body_without_values_is_a_parameter_error(ssm, at):
    ssm.get_parameter = lambda **_: {}  # type: ignore[method-assign]
    ssm.get_parameters = lambda **_: {"Parameters": None}  # type: ignore[method-assign]
    store = ParameterStore(ssm)
    with pytest.raises(ParameterError):
        store.get("/decoy/p0", max_age=30)
    with pytest.raises(ParameterError):
        store.get_many(["/decoy/p0"], max_age=30)
