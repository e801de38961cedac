"""Every getReturn and getReturns cassette replayed through the generated client, sync and async: the same
request (path ids and query), a fully parsed answer, each case asserted."""

import datetime
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from tests.helpers import SERVER, Recording, all_recordings, failed, recording_id
from tools.market_vcr import RETURN_CASSETTES, RETURNS_CASSETTES, market_vcr
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import get_return, get_returns
from yandex_market_returns_client.models import (
    ApiErrorResponse,
    ApiResponseStatusType,
    GetReturnResponse,
    GetReturnsResponse,
    ReturnShipmentStatusType,
    ReturnType,
)

RECORDINGS = all_recordings(RETURN_CASSETTES) + all_recordings(RETURNS_CASSETTES)
TOKEN = "y0_test-token-never-recorded"
RATE_LIMIT_HEADERS = ("X-RateLimit-Resource-Limit", "X-RateLimit-Resource-Remaining", "X-RateLimit-Resource-Until")
Parsed = ApiErrorResponse | GetReturnResponse | GetReturnsResponse | None
CREATED, CANCELLED, PICKED = (
    ReturnShipmentStatusType.CREATED,
    ReturnShipmentStatusType.CANCELLED,
    ReturnShipmentStatusType.PICKED,
)


def _one(return_id: int, order_id: int, status: ReturnShipmentStatusType) -> Callable[[Parsed], None]:
    def check(parsed: Parsed) -> None:
        assert isinstance(parsed, GetReturnResponse)
        assert parsed.status is ApiResponseStatusType.OK
        assert parsed.result
        record = parsed.result
        assert (record.id, record.order_id, record.shipment_status, record.return_type) == (
            return_id,
            order_id,
            status,
            ReturnType.RETURN,
        )
        assert isinstance(record.update_date, datetime.datetime)
        assert record.update_date.utcoffset() == datetime.timedelta(hours=3)

    return check


def _page(expected: list[tuple[int, ReturnShipmentStatusType]], more: bool) -> Callable[[Parsed], None]:
    def check(parsed: Parsed) -> None:
        assert isinstance(parsed, GetReturnsResponse)
        assert parsed.result
        assert [(r.id, r.shipment_status) for r in parsed.result.returns] == expected
        token = parsed.result.paging.next_page_token if parsed.result.paging else None
        assert isinstance(token, str) is more

    return check


EXPECTED: dict[str, Callable[[Parsed], None]] = {
    "get_return/200_created": _one(97211, 46150531, CREATED),
    "get_return/200_cancelled": _one(97212, 46150531, CANCELLED),
    "get_return/404_not_found": failed("NOT_FOUND", "Return 97211 of order 46150536 not found"),
    "get_return/420_hourly_limit": failed(
        "HIT_RATE_LIMIT", "Hit rate limit of 1 requests per hour for campaignId 21621656"
    ),
    "get_returns/200_first_page": _page([(97211, CREATED), (97212, CANCELLED)], more=True),
    "get_returns/200_last_page": _page([(97213, PICKED), (97214, CREATED)], more=False),
    "get_returns/200_filtered": _page([(97212, CANCELLED), (97213, PICKED)], more=False),
    "get_returns/400_dates_reversed": failed("BAD_REQUEST", "Invalid dates: fromDate is after toDate"),
    "get_returns/420_hourly_limit": failed(
        "HIT_RATE_LIMIT", "Hit rate limit of 1 requests per hour for campaignId 21621656"
    ),
}
LIMITS = {"get_return": "7000", "get_returns": "5000"}


def _name(recording: Recording) -> str:
    return recording_id(recording)


def _arguments(recording: Recording) -> tuple[tuple[int, ...], dict[str, Any]]:
    """The path's ids and the query, as the generated endpoint takes them."""
    url = urlsplit(recording.path)
    ids = tuple(int(part) for part in url.path.split("/") if part.isdigit())
    query = parse_qs(url.query)
    keywords: dict[str, Any] = {}
    if "limit" in query:
        keywords["limit"] = int(query["limit"][0])
    if "pageToken" in query:
        keywords["page_token"] = query["pageToken"][0]
    if "shipmentStatuses" in query:
        keywords["shipment_statuses"] = [ReturnShipmentStatusType(s) for s in query["shipmentStatuses"]]
    for name in ("fromDate", "toDate"):
        if name in query:
            keywords[name] = datetime.date.fromisoformat(query[name][0])
    return ids, keywords


def _endpoint(recording: Recording) -> Any:
    return get_return if recording.file.is_relative_to(RETURN_CASSETTES) else get_returns


def _check(recording: Recording, response: Any) -> None:
    assert response.status_code == recording.status
    success = GetReturnResponse if recording.file.is_relative_to(RETURN_CASSETTES) else GetReturnsResponse
    assert isinstance(response.parsed, success if recording.status == 200 else ApiErrorResponse)
    assert response.parsed.to_dict() == recording.response_json(), "parsing lost or changed something"
    for name in RATE_LIMIT_HEADERS:
        assert response.headers.get(name) == recording.response_headers.get(name)
    method = _name(recording).split("/")[0]
    if recording.status != 420:
        assert response.headers["X-RateLimit-Resource-Limit"] == LIMITS[method]
    EXPECTED[_name(recording)](response.parsed)


def test_every_cassette_has_expectations() -> None:
    assert {_name(r) for r in RECORDINGS} == set(EXPECTED)


@pytest.mark.parametrize("recording", RECORDINGS, ids=recording_id)
def test_replay_sync(recording: Recording) -> None:
    ids, query = _arguments(recording)
    with market_vcr("none", recording.file.parent).use_cassette(str(recording.file)) as cassette:
        with AuthenticatedClient(base_url=SERVER, token=TOKEN) as client:
            response = _endpoint(recording).sync_detailed(*ids, client=client, **query)
        assert cassette.all_played
    _check(recording, response)


@pytest.mark.asyncio
@pytest.mark.parametrize("recording", RECORDINGS, ids=recording_id)
async def test_replay_async(recording: Recording) -> None:
    ids, query = _arguments(recording)
    with market_vcr("none", recording.file.parent).use_cassette(str(recording.file)) as cassette:
        async with AuthenticatedClient(base_url=SERVER, token=TOKEN) as client:
            response = await _endpoint(recording).asyncio_detailed(*ids, client=client, **query)
        assert cassette.all_played
    _check(recording, response)


@pytest.mark.parametrize(
    ("cassette", "ids", "query"),
    [
        pytest.param(RETURN_CASSETTES / "200_created.yaml", (21621656, 46150532, 97211), {}, id="other order"),
        pytest.param(RETURNS_CASSETTES / "200_first_page.yaml", (21621656,), {"limit": 3}, id="other limit"),
        pytest.param(
            RETURNS_CASSETTES / "200_filtered.yaml",
            (21621656,),
            {"shipment_statuses": [CANCELLED]},
            id="other statuses",
        ),
    ],
)
def test_replay_refuses_a_different_request(cassette: Any, ids: tuple[int, ...], query: dict[str, Any]) -> None:
    endpoint = get_return if len(ids) == 3 else get_returns
    client = AuthenticatedClient(base_url=SERVER, token=TOKEN)
    refused = pytest.raises(CannotOverwriteExistingCassetteException)
    with market_vcr("none", cassette.parent).use_cassette(str(cassette)), client, refused:
        endpoint.sync_detailed(*ids, client=client, **query)
