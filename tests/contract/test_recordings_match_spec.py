"""Every recorded exchange conforms to openapi.yaml, and the check itself can fail."""

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core.exceptions import OpenAPIError

from tests.helpers import SOURCES, Recording, every_recording, load, recording_id, validate_recording
from tools.market_vcr import CASSETTES, OPERATIONS_CASSETTES, RETURN_CASSETTES, RETURNS_CASSETTES, SCRUBBED_HEADERS

RECORDINGS = every_recording()


def by_name(name: str, folder: Path = CASSETTES) -> Recording:
    return load(folder / f"{name}.yaml", folder)


def test_cassettes_cover_every_documented_status() -> None:
    cancel_return = [r for r in RECORDINGS if r.file.is_relative_to(CASSETTES)]
    assert {r.status for r in cancel_return} >= {200, 400, 401, 403, 420, 500}


def test_get_operations_cassettes_cover_the_cases_a_client_meets() -> None:
    names = {r.name for r in RECORDINGS if r.file.is_relative_to(OPERATIONS_CASSETTES)}
    assert names == {
        "200_all_done",
        "200_mixed",
        "200_unknown_status",
        "200_id_missing",
        "400_too_many_ids",
        "401_unauthorized",
        "420_hourly_limit",
    }


def test_get_return_and_get_returns_cassettes_cover_the_cases_a_client_meets() -> None:
    def names(folder: Path) -> set[str]:
        return {r.name for r in RECORDINGS if r.file.is_relative_to(folder)}

    assert names(RETURN_CASSETTES) == {"200_created", "200_cancelled", "404_not_found", "420_hourly_limit"}
    assert names(RETURNS_CASSETTES) == {
        "200_first_page",
        "200_last_page",
        "200_filtered",
        "400_dates_reversed",
        "420_hourly_limit",
    }


@pytest.mark.parametrize("recording", RECORDINGS, ids=recording_id)
def test_cassette_says_where_it_comes_from(recording: Recording) -> None:
    assert recording.source.startswith(SOURCES)


@pytest.mark.parametrize("recording", RECORDINGS, ids=recording_id)
def test_cassette_holds_no_credential(recording: Recording) -> None:
    for name, placeholder in SCRUBBED_HEADERS.items():
        assert recording.request_headers.get(name, placeholder) == placeholder


@pytest.mark.parametrize("recording", [r for r in RECORDINGS if not r.spec_deviation], ids=recording_id)
def test_recording_conforms_to_spec(recording: Recording) -> None:
    validate_recording(recording)


@pytest.mark.parametrize("recording", [r for r in RECORDINGS if r.spec_deviation], ids=recording_id)
def test_declared_deviation_is_the_only_thing_the_spec_rejects(recording: Recording) -> None:
    """A cassette that shows a future Market (a new enum value), or the Market's answer to a request the spec
    forbids, must fail validation for that reason alone."""
    assert recording.spec_deviation
    if recording.request_deviates:
        validate_recording(recording, request=False)
        with pytest.raises(OpenAPIError) as caught:
            validate_recording(recording)
        assert "too long" in str(caught.value.__cause__)
        return
    value = recording.spec_deviation.split(":")[1].split()[0]
    with pytest.raises(OpenAPIError) as caught:
        validate_recording(recording)
    assert value in str(caught.value.__cause__)


def _with_body(recording: Recording, change: Callable[[Any], None]) -> Recording:
    body = recording.response_json()
    change(body)
    return replace(recording, response_body=json.dumps(body).encode())


KeyPath = tuple[str | int, ...]


def _parent(body: Any, path: KeyPath) -> Any:
    for key in path[:-1]:
        body = body[key]
    return body


def _set(path: KeyPath, value: object) -> Callable[[Any], None]:
    def change(body: Any) -> None:
        _parent(body, path)[path[-1]] = value

    return change


def _drop(path: KeyPath) -> Callable[[Any], None]:
    def change(body: Any) -> None:
        del _parent(body, path)[path[-1]]

    return change


BROKEN = {
    "status not in the enum": ("200_started", _set(("status",), "DONE")),
    "operation id empty": ("200_started", _set(("result", "operation", "id"), "")),
    "operation id too long": ("200_started", _set(("result", "operation", "id"), "x" * 1001)),
    "operation type missing": ("200_started", _drop(("result", "operation", "type"))),
    "operation missing": ("200_started", _drop(("result", "operation"))),
    "status missing": ("400_not_cancellable", _drop(("status",))),
    "errors empty": ("400_not_cancellable", _set(("errors",), [])),
    "error without code": ("403_forbidden", _drop(("errors", 0, "code"))),
    "code not a string": ("500_internal_error", _set(("errors", 0, "code"), 500)),
    "operations missing": ("200_all_done", _drop(("result", "operations"))),
    "operation status missing": ("200_mixed", _drop(("result", "operations", 1, "status"))),
    "operation status not a string": ("200_mixed", _set(("result", "operations", 0, "status"), 1)),
    "operation id empty in a result": ("200_all_done", _set(("result", "operations", 0, "id"), "")),
    "operation type missing in a result": ("200_mixed", _drop(("result", "operations", 2, "type"))),
    "return without its order": ("200_created", _drop(("result", "orderId"))),
    "return id not an integer": ("200_cancelled", _set(("result", "id"), "97212")),
    "shipment status not a string": ("200_created", _set(("result", "shipmentStatus"), 3)),
    "update date not a date-time": ("200_created", _set(("result", "updateDate"), "yesterday")),
    "returns missing": ("200_first_page", _drop(("result", "returns"))),
    "next page token not a string": ("200_first_page", _set(("result", "paging", "nextPageToken"), 2)),
    "item without its SKU": ("200_last_page", _drop(("result", "returns", 0, "items", 0, "shopSku"))),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_response_fails_validation(case: str) -> None:
    name, change = BROKEN[case]
    folders = (CASSETTES, OPERATIONS_CASSETTES, RETURN_CASSETTES, RETURNS_CASSETTES)
    recording = by_name(name, next(folder for folder in folders if (folder / f"{name}.yaml").exists()))
    validate_recording(recording)
    with pytest.raises(OpenAPIError):
        validate_recording(_with_body(recording, change))


def test_non_integer_rate_limit_header_fails_validation() -> None:
    recording = by_name("200_started")
    headers = httpx.Headers(recording.response_headers)
    headers["X-RateLimit-Resource-Remaining"] = "plenty"
    with pytest.raises(OpenAPIError):
        validate_recording(replace(recording, response_headers=headers))


def test_request_without_return_id_fails_validation() -> None:
    with pytest.raises(OpenAPIError):
        validate_recording(replace(by_name("200_started"), request_body=b"{}"))


@pytest.mark.parametrize(
    "body",
    [
        {"operationType": "RETURN_CANCELLATION", "operationIds": []},
        {"operationType": "RETURN_CANCELLATION", "operationIds": ["a", "a"]},
        {"operationIds": ["a"]},
    ],
    ids=["no ids", "repeated id", "no type"],
)
def test_operations_request_outside_the_spec_fails_validation(body: dict[str, Any]) -> None:
    recording = by_name("200_all_done", OPERATIONS_CASSETTES)
    with pytest.raises(OpenAPIError):
        validate_recording(replace(recording, request_body=json.dumps(body).encode()))


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "shipmentStatuses=GONE", "fromDate=30.11.2026", "orderIds=x"],
)
def test_returns_request_outside_the_spec_fails_validation(query: str) -> None:
    recording = by_name("200_first_page", RETURNS_CASSETTES)
    with pytest.raises(OpenAPIError):
        validate_recording(replace(recording, path=f"{recording.path.partition('?')[0]}?{query}"))
