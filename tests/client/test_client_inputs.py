"""Bad arguments are refused with an error naming the parameter and the value, and nothing is sent."""

import asyncio
import enum
import json
import math
import traceback
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import KEY, SPEC, CountingTransport
from yandex_market_returns import API_KEY_VARIABLE, AsyncReturnsClient, RateLimit, ReturnsClient
from yandex_market_returns._validation import CAMPAIGN_ID_BOUNDS, RETURN_ID_BOUNDS
from yandex_market_returns.errors import ClientClosedError
from yandex_market_returns_client.models import CancelReturnRequest

INT64_MAX = 2**63 - 1

# (campaign_id, return_id, error type, what the message must name)
BAD_CALLS: list[tuple[Any, Any, type[Exception], str]] = [
    (True, 1, TypeError, "campaign_id must be an int, not bool: True"),
    (False, 1, TypeError, "campaign_id must be an int, not bool: False"),
    ("21621656", 1, TypeError, "campaign_id must be an int, not str: '21621656'"),
    (21621656.0, 1, TypeError, "campaign_id must be an int, not float: 21621656.0"),
    (Decimal(7), 1, TypeError, "campaign_id must be an int, not Decimal"),
    (None, 1, TypeError, "campaign_id must be an int, not NoneType: None"),
    ([1], 1, TypeError, "campaign_id must be an int, not list: [1]"),
    (0, 1, ValueError, f"campaign_id must be between 1 and {INT64_MAX}, got 0"),
    (-5, 1, ValueError, "got -5"),
    (INT64_MAX + 1, 1, ValueError, f"campaign_id must be between 1 and {INT64_MAX}, got {INT64_MAX + 1}"),
    (1, True, TypeError, "return_id must be an int, not bool: True"),
    (1, "97211", TypeError, "return_id must be an int, not str: '97211'"),
    (1, 97211.5, TypeError, "return_id must be an int, not float: 97211.5"),
    (1, None, TypeError, "return_id must be an int, not NoneType: None"),
    (1, b"1", TypeError, "return_id must be an int, not bytes"),
    (1, INT64_MAX + 1, ValueError, f"return_id must be between {-INT64_MAX - 1} and {INT64_MAX}, got {INT64_MAX + 1}"),
    (1, -(2**63) - 1, ValueError, f"got {-(2**63) - 1}"),
    (1, 10**40, ValueError, "return_id must be between"),
    (1, "x" * 10_000, TypeError, "return_id must be an int, not str: 'xxxxxxxxxxxx"),
]


@pytest.mark.parametrize(("campaign_id", "return_id", "kind", "message"), BAD_CALLS)
def test_bad_ids_are_refused_before_any_request(campaign_id: Any, return_id: Any, kind: type, message: str) -> None:
    transport = CountingTransport()
    with ReturnsClient(api_key="k", transport=transport) as client, pytest.raises(kind) as raised:
        client.cancel_return(campaign_id, return_id)
    assert message in str(raised.value)
    assert len(str(raised.value)) < 200, "a huge value is shortened in the message"
    assert transport.requests == []


@pytest.mark.parametrize(("campaign_id", "return_id", "kind", "message"), BAD_CALLS[::4])
def test_async_client_refuses_the_same(campaign_id: Any, return_id: Any, kind: type, message: str) -> None:
    transport = CountingTransport()

    async def call() -> None:
        async with AsyncReturnsClient(api_key="k", transport=transport) as client:
            await client.cancel_return(campaign_id, return_id)

    with pytest.raises(kind, match="must be"):
        asyncio.run(call())
    assert transport.requests == []


BAD_BATCHES: list[tuple[Any, type[Exception], str]] = [
    ("97211", TypeError, "return_ids must be an iterable of ints, not str"),
    (97211, TypeError, "return_ids must be an iterable of ints, not int"),
    (None, TypeError, "return_ids must be an iterable of ints, not NoneType"),
    ([1, 2, True], TypeError, "return_ids[2] must be an int, not bool: True"),
    ([1, 2, "3"], TypeError, "return_ids[2] must be an int, not str: '3'"),
    ([1, INT64_MAX + 1], ValueError, "return_ids[1] must be between"),
    ([5, 6, 5], ValueError, "return_ids[2] repeats return id 5"),
]


@pytest.mark.parametrize(("return_ids", "kind", "message"), BAD_BATCHES)
def test_a_batch_with_one_bad_id_sends_nothing(return_ids: Any, kind: type, message: str) -> None:
    transport = CountingTransport()
    with ReturnsClient(api_key="k", transport=transport) as client, pytest.raises(kind) as raised:
        client.cancel_returns(1, return_ids)
    assert message in str(raised.value)
    assert transport.requests == []


def test_a_batch_checks_its_campaign_id_too() -> None:
    transport = CountingTransport()
    with ReturnsClient(api_key="k", transport=transport) as client, pytest.raises(ValueError, match="campaign_id"):
        client.cancel_returns(0, [1, 2])
    assert transport.requests == []


BAD_OPTIONS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"api_key": ""}, ValueError, "api_key is empty"),
    ({"api_key": 12345}, TypeError, "api_key must be a str, not int"),
    ({"api_key": "two words"}, ValueError, "api_key holds characters"),
    ({"api_key": "ключ"}, ValueError, "api_key holds characters"),
    ({"api_key": "key\r\nX-Injected: 1"}, ValueError, "api_key holds characters"),
    ({"base_url": "ftp://market.example"}, ValueError, "base_url must be an absolute http(s) URL, got 'ftp://market"),
    ({"base_url": "market.example/v1"}, ValueError, "base_url must be an absolute http(s) URL"),
    ({"base_url": ""}, ValueError, "base_url must be an absolute http(s) URL, got ''"),
    ({"base_url": None}, TypeError, "base_url must be a str, not NoneType"),
    ({"base_url": "https://user:hunter2@market.example"}, ValueError, "must not carry a user name or password"),
    ({"base_url": "https://market.example/api?x=1"}, ValueError, "must not have a query or a fragment"),
    ({"base_url": "https://market.example/api#top"}, ValueError, "must not have a query or a fragment"),
    ({"base_url": "https://market.example/api?"}, ValueError, "must not have a query or a fragment"),
    ({"base_url": "http://market.example"}, ValueError, "must use https (plain http only to a loopback host)"),
    ({"base_url": "http://10.0.0.1:8080"}, ValueError, "must use https"),
    ({"timeout": 0}, ValueError, "timeout must be a number from 0.001 to 86400, got 0"),
    ({"timeout": -1.5}, ValueError, "got -1.5"),
    ({"timeout": math.nan}, ValueError, "got nan"),
    ({"timeout": math.inf}, ValueError, "timeout must be a number from 0.001 to 86400, got inf"),
    ({"timeout": 10**400}, ValueError, "timeout must be a number from 0.001 to 86400, got an integer of 1329 bits"),
    ({"timeout": 1e300}, ValueError, "timeout must be a number from 0.001 to 86400, got 1e+300"),
    ({"timeout": 86_401}, ValueError, "timeout must be a number from 0.001 to 86400, got 86401"),
    ({"timeout": "30"}, TypeError, "timeout must be a number, not str: '30'"),
    ({"timeout": httpx.Timeout(None)}, TypeError, "timeout.connect must be a number, not NoneType"),
    ({"timeout": httpx.Timeout(5.0, read=1e9)}, ValueError, "timeout.read must be a number from 0.001 to 86400"),
    ({"max_retries": -1}, ValueError, "max_retries must be between 0 and 100, got -1"),
    ({"timeout": -(10**5000)}, ValueError, "timeout must be a number from 0.001 to 86400, got an integer of 16610"),
    ({"retry_budget": 10**5000}, ValueError, "retry_budget must be a number from 0 to 86400, got an integer of"),
    ({"base_url": "http://127.0.0.1:99999"}, ValueError, "base_url has a port outside 1-65535"),
    ({"base_url": "https://a b"}, ValueError, "base_url has a host no one can connect to"),
    ({"max_retries": 10**400}, ValueError, "max_retries must be between 0 and 100, got an integer of 1329 bits"),
    ({"max_retries": True}, TypeError, "max_retries must be an int, not bool: True"),
    ({"max_retries": 2.5}, TypeError, "max_retries must be an int, not float: 2.5"),
    ({"retry_budget": -1}, ValueError, "retry_budget must be a number from 0 to 86400, got -1"),
    ({"retry_budget": math.inf}, ValueError, "retry_budget must be a number from 0 to 86400, got inf"),
    (
        {"retry_budget": 10**400},
        ValueError,
        "retry_budget must be a number from 0 to 86400, got an integer of 1329 bits",
    ),
    ({"retry_budget": -math.nan}, ValueError, "retry_budget must be a number from 0 to 86400, got nan"),
    ({"backoff": -0.1}, ValueError, "backoff must be a number from 0 to 86400, got -0.1"),
    ({"backoff": 1e309}, ValueError, "backoff must be a number from 0 to 86400, got inf"),
    ({"grace_period": -1}, ValueError, "grace_period must be a number from 0 to 86400, got -1"),
    ({"grace_period": math.nan}, ValueError, "grace_period must be a number from 0 to 86400, got nan"),
    ({"grace_period": "1"}, TypeError, "grace_period must be a number, not str"),
]


@pytest.mark.parametrize(("options", "kind", "message"), BAD_OPTIONS)
def test_bad_options_are_refused_at_construction(options: dict[str, Any], kind: type, message: str) -> None:
    with pytest.raises(kind) as raised:
        ReturnsClient(**{"api_key": "k", **options})
    assert message in str(raised.value)
    with pytest.raises(kind):
        AsyncReturnsClient(**{"api_key": "k", **options})


def test_a_bad_key_is_never_echoed() -> None:
    with pytest.raises(ValueError, match="api_key") as raised:
        ReturnsClient(api_key="secret part\n")
    assert "secret" not in str(raised.value)


def test_the_key_comes_from_the_environment_when_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = CountingTransport()
    monkeypatch.setenv(API_KEY_VARIABLE, "from-the-environment")
    with ReturnsClient(transport=transport) as client:
        client.cancel_return(1, 2)
    assert transport.requests[0].headers["Api-Key"] == "from-the-environment"
    with ReturnsClient(api_key="passed", transport=transport) as client:
        client.cancel_return(1, 2)
    assert transport.requests[1].headers["Api-Key"] == "passed", "an explicit key wins over the environment"


def test_no_key_at_all_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_VARIABLE, raising=False)
    with pytest.raises(ValueError, match=f"pass api_key= or set {API_KEY_VARIABLE}"):
        ReturnsClient()


def test_the_bounds_are_openapi_yaml_s() -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    campaign = spec["components"]["parameters"]["CampaignId"]["schema"]
    return_id = spec["components"]["schemas"]["CancelReturnRequest"]["properties"]["returnId"]
    assert (campaign["format"], campaign["minimum"]) == ("int64", 1)
    assert return_id["format"] == "int64"
    assert (campaign["minimum"], INT64_MAX) == CAMPAIGN_ID_BOUNDS
    assert RETURN_ID_BOUNDS == (-INT64_MAX - 1, INT64_MAX)


def test_the_edges_of_the_bounds_are_accepted() -> None:
    transport = CountingTransport()
    with ReturnsClient(api_key="k", transport=transport) as client:
        client.cancel_return(1, -INT64_MAX - 1)
        client.cancel_return(INT64_MAX, INT64_MAX)
    assert [request.url.path for request in transport.requests] == [
        "/v1/campaigns/1/returns/cancel",
        f"/v1/campaigns/{INT64_MAX}/returns/cancel",
    ]
    assert (
        transport.requests[1].content
        == httpx.Request("POST", "/", json=CancelReturnRequest(return_id=INT64_MAX).to_dict()).content
    )


class Store(int, enum.Enum):
    """An enum of ints that formats as ``Store.MAIN``: sent as given, it would land in the path as that."""

    MAIN = 21621656


class Index:
    """What numpy integers are to Python: not an int, but an integer by ``operator.index``."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_integers_by_operator_index_are_sent_as_plain_ints() -> None:
    transport = CountingTransport()
    with ReturnsClient(api_key="k", transport=transport) as client:
        client.cancel_return(Store.MAIN, Index(97211))  # type: ignore[arg-type]
        outcomes = client.cancel_returns(Store.MAIN, [Index(5), Store.MAIN])  # type: ignore[list-item]
        client.cancel_return(Index(21621656), 6)  # type: ignore[arg-type]
    assert [request.url.path for request in transport.requests] == ["/v1/campaigns/21621656/returns/cancel"] * 4
    assert [json.loads(request.content)["returnId"] for request in transport.requests[:1]] == [97211]
    assert sorted(json.loads(request.content)["returnId"] for request in transport.requests[1:3]) == [5, 21621656]
    assert [type(outcome.return_id) for outcome in outcomes] == [int, int]


def test_an_index_out_of_bounds_is_still_refused() -> None:
    transport = CountingTransport()
    with ReturnsClient(api_key="k", transport=transport) as client, pytest.raises(ValueError, match="got 0"):
        client.cancel_return(Index(0), 1)  # type: ignore[arg-type]
    assert transport.requests == []


def test_a_closed_client_says_so() -> None:
    transport = CountingTransport()
    client = ReturnsClient(api_key="k", transport=transport)
    client.close()
    with pytest.raises(ClientClosedError, match="this ReturnsClient is closed"):
        client.cancel_return(1, 2)
    with pytest.raises(ClientClosedError, match="this ReturnsClient is closed"):
        client.cancel_returns(1, [2, 3])
    with pytest.raises(ClientClosedError):
        client.__enter__()

    async def use_closed() -> None:
        async with AsyncReturnsClient(api_key="k", transport=httpx.MockTransport(lambda _: httpx.Response(200))) as c:
            pass
        await c.cancel_return(1, 2)

    with pytest.raises(ClientClosedError, match="this AsyncReturnsClient is closed"):
        asyncio.run(use_closed())
    assert transport.requests == []


UNTILS = [
    ("Thu, 10 Jul 2018 00:42:42 GMT", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 03:42:42 MSK", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 03:42:42 +0300", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Wed, 09 Jul 2018 20:42:42 EDT", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("2018-07-10T05:42:42+05:00", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 07:42:42 KRAT", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 00:42:42", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 03:42:42 msk", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 03:42:42 +03", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 03:42:42 +03:00", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("2018-07-10T00:42:42Z", datetime(2018, 7, 10, 0, 42, 42, tzinfo=UTC)),
    ("Thu, 10 Jul 2018 00:42:42 XYZT", None),
    ("Thu, 10 Jul 2018 03:42:42 GMT+3", None),
    ("Thu, 10 Jul 2018 03:42:42 UTC+03:00", None),
    ("Thu, 10 Jul 2018 03:42:42 GMT+0300 (Moscow Standard Time)", None),
    ("Thu, 10 Jul 2018 03:42:42 MSK+1", None),
    ("Thu, 10 Jul 2018 03:42:42 EST5EDT", None),
    ("Thu, 10 Jul 2018 25:42:42 GMT", None),
    ("soon", None),
    ("9" * 500, None),
]


@pytest.mark.parametrize(("header", "expected"), UNTILS, ids=[header[:40] for header, _ in UNTILS])
def test_until_is_read_in_its_own_zone_without_a_warning(header: str, expected: datetime | None) -> None:
    """pytest turns warnings into errors here: dateutil's UnknownTimezoneWarning would fail the test."""
    until = RateLimit.from_headers({"X-RateLimit-Resource-Until": header}).until
    assert until == expected
    assert until is None or until.tzinfo is not None


def test_an_id_too_long_to_print_is_named_by_its_size() -> None:
    transport = CountingTransport()
    with (
        ReturnsClient(api_key="k", transport=transport) as client,
        pytest.raises(ValueError, match="return_id") as raised,
    ):
        client.cancel_return(1, 10**5000)
    assert str(raised.value).startswith("return_id must be between")
    assert str(raised.value).endswith("got an integer of 16610 bits")
    assert transport.requests == []


@pytest.mark.parametrize("kind", [ReturnsClient, AsyncReturnsClient])
def test_a_client_whose_setup_failed_still_has_a_repr(kind: type[ReturnsClient | AsyncReturnsClient]) -> None:
    """A reporter formats the traceback with its locals: the half-built client must not break it."""
    with pytest.raises(ValueError, match="base_url") as raised:
        kind(api_key=KEY, base_url="http://example.com")
    half_built = raised.value.__traceback__.tb_next.tb_frame.f_locals["self"]  # type: ignore[union-attr]
    assert repr(half_built) == f"{kind.__name__}(not set up)"
    traceback.TracebackException.from_exception(raised.value, capture_locals=True)
