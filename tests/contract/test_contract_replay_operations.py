"""Every getOperations cassette replayed through the generated client, sync and async: same request, fully
parsed answer, each field asserted."""

from collections.abc import Callable

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from tests.helpers import SERVER, Recording, all_recordings, failed, recording_id
from tools.market_vcr import OPERATIONS_CASSETTES, market_vcr
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.operations import get_operations
from yandex_market_returns_client.models import (
    ApiErrorResponse,
    ApiResponseStatusType,
    GetOperationsRequest,
    GetOperationsResponse,
    OperationStatusType,
    OperationType,
)
from yandex_market_returns_client.types import Response

RECORDINGS = all_recordings(OPERATIONS_CASSETTES)
TOKEN = "y0_test-token-never-recorded"
RATE_LIMIT_HEADERS = ("X-RateLimit-Resource-Limit", "X-RateLimit-Resource-Remaining", "X-RateLimit-Resource-Until")
Parsed = ApiErrorResponse | GetOperationsResponse | None
A = "6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13"
B = "b2c7e9d0-1f4a-4e3b-9a6c-5d8e7f0a1b2c"
C = "0c5e8a7b-3d2f-4a19-b6e4-7f1a9c2d8e05"


def _statuses(*expected: tuple[str, str]) -> Callable[[Parsed], None]:
    def check(parsed: Parsed) -> None:
        assert isinstance(parsed, GetOperationsResponse)
        assert parsed.status is ApiResponseStatusType.OK
        assert parsed.result, "result missing"
        got = [(o.id, o.type_, o.status) for o in parsed.result.operations]
        assert got == [(id_, OperationType.RETURN_CANCELLATION, status) for id_, status in expected]
        for operation in parsed.result.operations:
            assert isinstance(operation.type_, OperationType)
            assert isinstance(operation.status, OperationStatusType)

    return check


def _unknown_status(parsed: Parsed) -> None:
    _statuses((A, "PARTIALLY_DONE"), (B, "DONE"))(parsed)
    assert isinstance(parsed, GetOperationsResponse)
    assert parsed.result
    status = parsed.result.operations[0].status
    assert status.value == "PARTIALLY_DONE"
    assert status not in list(OperationStatusType)
    assert parsed.result.operations[1].status is OperationStatusType.DONE


EXPECTED: dict[str, Callable[[Parsed], None]] = {
    "200_all_done": _statuses((A, "DONE"), (B, "DONE")),
    "200_mixed": _statuses((A, "DONE"), (B, "FAILED"), (C, "IN_PROGRESS")),
    "200_unknown_status": _unknown_status,
    "200_id_missing": _statuses((A, "DONE")),
    "400_too_many_ids": failed("BAD_REQUEST", "operationIds: size must be between 1 and 100"),
    "401_unauthorized": failed("UNAUTHORIZED", "OAuth token or Api-Key is invalid"),
    "420_hourly_limit": failed("HIT_RATE_LIMIT", "Hit rate limit of 1000 requests per 1 hours for businessId 11029645"),
}
REMAINING = {"420_hourly_limit": "0"}


def _check(recording: Recording, response: Response[ApiErrorResponse | GetOperationsResponse]) -> None:
    assert response.status_code == recording.status
    assert isinstance(response.parsed, GetOperationsResponse if recording.status == 200 else ApiErrorResponse)
    assert response.parsed.to_dict() == recording.response_json(), "parsing lost or changed something"
    for name in RATE_LIMIT_HEADERS:
        assert response.headers.get(name) == recording.response_headers.get(name)
    assert response.headers["X-RateLimit-Resource-Limit"] == "1000"
    if recording.name in REMAINING:
        assert response.headers["X-RateLimit-Resource-Remaining"] == REMAINING[recording.name]
    EXPECTED[recording.name](response.parsed)


def _body(recording: Recording) -> GetOperationsRequest:
    return GetOperationsRequest(operation_type=OperationType.RETURN_CANCELLATION, operation_ids=recording.operation_ids)


def test_every_cassette_has_expectations() -> None:
    assert {r.name for r in RECORDINGS} == set(EXPECTED)


@pytest.mark.parametrize("recording", RECORDINGS, ids=recording_id)
def test_replay_sync(recording: Recording) -> None:
    with market_vcr("none", OPERATIONS_CASSETTES).use_cassette(str(recording.file)) as cassette:
        with AuthenticatedClient(base_url=SERVER, token=TOKEN) as client:
            response = get_operations.sync_detailed(recording.business_id, client=client, body=_body(recording))
        assert cassette.all_played
    _check(recording, response)


@pytest.mark.asyncio
@pytest.mark.parametrize("recording", RECORDINGS, ids=recording_id)
async def test_replay_async(recording: Recording) -> None:
    with market_vcr("none", OPERATIONS_CASSETTES).use_cassette(str(recording.file)) as cassette:
        async with AuthenticatedClient(base_url=SERVER, token=TOKEN) as client:
            response = await get_operations.asyncio_detailed(
                recording.business_id, client=client, body=_body(recording)
            )
        assert cassette.all_played
    _check(recording, response)


def test_replay_refuses_other_operation_ids() -> None:
    recording = all_recordings(OPERATIONS_CASSETTES)[0]
    body = GetOperationsRequest(operation_type=OperationType.RETURN_CANCELLATION, operation_ids=[A])
    cassette = market_vcr("none", OPERATIONS_CASSETTES).use_cassette(str(recording.file))
    client = AuthenticatedClient(base_url=SERVER, token=TOKEN)
    with cassette, client, pytest.raises(CannotOverwriteExistingCassetteException):
        get_operations.sync_detailed(recording.business_id, client=client, body=body)
