"""Every cassette replayed through the generated client, sync and async: same request, fully parsed answer."""

from collections.abc import Callable

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from tests.helpers import SERVER, Recording, all_recordings
from tools.market_vcr import market_vcr
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import (
    ApiErrorResponse,
    ApiResponseStatusType,
    CancelReturnRequest,
    CancelReturnResponse,
    OperationType,
)
from yandex_market_returns_client.types import UNSET, Response

RECORDINGS = all_recordings()
TOKEN = "y0_test-token-never-recorded"
RATE_LIMIT_HEADERS = ("X-RateLimit-Resource-Limit", "X-RateLimit-Resource-Remaining", "X-RateLimit-Resource-Until")
Parsed = ApiErrorResponse | CancelReturnResponse | None


def _started(operation_id: str, operation_type: str) -> Callable[[Parsed], None]:
    def check(parsed: Parsed) -> None:
        assert isinstance(parsed, CancelReturnResponse)
        assert parsed.status is ApiResponseStatusType.OK
        assert parsed.result, "result missing"
        assert parsed.result.operation.id == operation_id
        assert parsed.result.operation.type_ == operation_type

    return check


def _failed(*errors: tuple[str, str | None]) -> Callable[[Parsed], None]:
    def check(parsed: Parsed) -> None:
        assert isinstance(parsed, ApiErrorResponse)
        assert parsed.status is ApiResponseStatusType.ERROR
        assert isinstance(parsed.errors, list)
        assert [(e.code, e.message or None) for e in parsed.errors] == list(errors)

    return check


def _unknown_fields(parsed: Parsed) -> None:
    _started(OPERATION, "RETURN_CANCELLATION")(parsed)
    assert isinstance(parsed, CancelReturnResponse)
    assert parsed.result
    assert parsed.additional_properties == {"requestId": "1a2b3c"}
    assert parsed.result.additional_properties == {"returnId": 97211}
    assert parsed.result.operation.additional_properties == {"createdAt": "2026-11-27T13:21:07+03:00"}


def _unknown_type(parsed: Parsed) -> None:
    _started(OPERATION, "RETURN_CANCELLATION_V2")(parsed)
    assert isinstance(parsed, CancelReturnResponse)
    assert parsed.result
    operation_type = parsed.result.operation.type_
    assert isinstance(operation_type, OperationType)
    assert operation_type.value == "RETURN_CANCELLATION_V2"
    assert operation_type not in list(OperationType)


def _result_absent(parsed: Parsed) -> None:
    assert isinstance(parsed, CancelReturnResponse)
    assert parsed.status is ApiResponseStatusType.OK
    assert parsed.result is UNSET


OPERATION = "6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13"
PARALLEL = "Hit rate limit of 4 parallel requests for campaignId 21621656"
EXPECTED: dict[str, Callable[[Parsed], None]] = {
    "200_started": _started(OPERATION, "RETURN_CANCELLATION"),
    "200_no_rate_limit_headers": _started("b2c7e9d0-1f4a-4e3b-9a6c-5d8e7f0a1b2c", "RETURN_CANCELLATION"),
    "200_unknown_fields": _unknown_fields,
    "200_unknown_operation_type": _unknown_type,
    "200_result_absent": _result_absent,
    "400_not_cancellable": _failed(
        ("BAD_REQUEST", "Return 97211 can't be cancelled: its shipmentStatus is not CREATED")
    ),
    "400_several_errors": _failed(("BAD_REQUEST", "returnId must be positive"), ("BAD_REQUEST", "Return -5 not found")),
    "400_error_without_message": _failed(("BAD_REQUEST", None)),
    "401_no_credentials": _failed(("UNAUTHORIZED", "Missing Api-Key header or OAuth token")),
    "403_forbidden": _failed(("FORBIDDEN", "Access denied to campaign 21621656")),
    "420_parallel_limit": _failed(("HIT_RATE_LIMIT", PARALLEL)),
    "420_hourly_limit": _failed(
        ("HIT_RATE_LIMIT", "Hit rate limit of 5000 requests per 1 hours for campaignId 21621656")
    ),
    "500_internal_error": _failed(("INTERNAL_ERROR", "Internal server error")),
}


def _check(recording: Recording, response: Response[ApiErrorResponse | CancelReturnResponse]) -> None:
    assert response.status_code == recording.status
    assert response.parsed is not None, f"status {recording.status} was not parsed"
    assert isinstance(response.parsed, CancelReturnResponse if recording.status == 200 else ApiErrorResponse)
    assert response.parsed.to_dict() == recording.response_json(), "parsing lost or changed something"
    for name in RATE_LIMIT_HEADERS:
        assert response.headers.get(name) == recording.response_headers.get(name)
    if recording.recorded_live:
        return
    EXPECTED[recording.name](response.parsed)


def _body(recording: Recording) -> CancelReturnRequest:
    return CancelReturnRequest(return_id=recording.return_id)


def test_every_hand_made_cassette_has_expectations() -> None:
    hand_made = {r.name for r in RECORDINGS if not r.recorded_live}
    assert hand_made == set(EXPECTED)


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.name)
def test_replay_sync(recording: Recording) -> None:
    with market_vcr("none").use_cassette(str(recording.file)) as cassette:
        with AuthenticatedClient(base_url=SERVER, token=TOKEN) as client:
            response = cancel_return.sync_detailed(recording.campaign_id, client=client, body=_body(recording))
        assert cassette.all_played
    _check(recording, response)


@pytest.mark.asyncio
@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.name)
async def test_replay_async(recording: Recording) -> None:
    with market_vcr("none").use_cassette(str(recording.file)) as cassette:
        async with AuthenticatedClient(base_url=SERVER, token=TOKEN) as client:
            response = await cancel_return.asyncio_detailed(recording.campaign_id, client=client, body=_body(recording))
        assert cassette.all_played
    _check(recording, response)


@pytest.mark.parametrize(
    ("campaign_id", "return_id", "header"),
    [
        pytest.param(21621657, 97211, "Api-Key", id="other campaign"),
        pytest.param(21621656, 97212, "Api-Key", id="other return"),
        pytest.param(21621656, 97211, "Authorization", id="no Api-Key header"),
    ],
)
def test_replay_refuses_a_different_request(campaign_id: int, return_id: int, header: str) -> None:
    with market_vcr("none").use_cassette("200_started.yaml"):
        client = AuthenticatedClient(base_url=SERVER, token=TOKEN, auth_header_name=header)
        with client, pytest.raises(CannotOverwriteExistingCassetteException):
            cancel_return.sync_detailed(campaign_id, client=client, body=CancelReturnRequest(return_id=return_id))
