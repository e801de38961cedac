"""Every recorded exchange conforms to openapi.yaml, and the check itself can fail."""

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from openapi_core.exceptions import OpenAPIError

from tests.market_vcr import CASSETTES, SCRUBBED_HEADERS
from tests.recordings import SOURCES, Recording, all_recordings, load, validate

RECORDINGS = all_recordings()


def by_name(name: str) -> Recording:
    return load(CASSETTES / f"{name}.yaml")


def test_cassettes_cover_every_documented_status() -> None:
    assert {r.status for r in RECORDINGS} >= {200, 400, 401, 403, 420, 500}


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.name)
def test_cassette_says_where_it_comes_from(recording: Recording) -> None:
    assert recording.source.startswith(SOURCES)


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.name)
def test_cassette_holds_no_credential(recording: Recording) -> None:
    for name, placeholder in SCRUBBED_HEADERS.items():
        assert recording.request_headers.get(name, placeholder) == placeholder


@pytest.mark.parametrize("recording", [r for r in RECORDINGS if not r.spec_deviation], ids=lambda r: r.name)
def test_recording_conforms_to_spec(recording: Recording) -> None:
    validate(recording)


@pytest.mark.parametrize("recording", [r for r in RECORDINGS if r.spec_deviation], ids=lambda r: r.name)
def test_declared_deviation_is_the_only_thing_the_spec_rejects(recording: Recording) -> None:
    """A cassette that shows a future Market (a new enum value) must fail validation for that reason alone."""
    assert recording.spec_deviation
    value = recording.spec_deviation.split(":")[1].split()[0]
    with pytest.raises(OpenAPIError) as caught:
        validate(recording)
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
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_response_fails_validation(case: str) -> None:
    name, change = BROKEN[case]
    recording = by_name(name)
    validate(recording)
    with pytest.raises(OpenAPIError):
        validate(_with_body(recording, change))


def test_non_integer_rate_limit_header_fails_validation() -> None:
    recording = by_name("200_started")
    headers = httpx.Headers(recording.response_headers)
    headers["X-RateLimit-Resource-Remaining"] = "plenty"
    with pytest.raises(OpenAPIError):
        validate(replace(recording, response_headers=headers))


def test_request_without_return_id_fails_validation() -> None:
    with pytest.raises(OpenAPIError):
        validate(replace(by_name("200_started"), request_body=b"{}"))
