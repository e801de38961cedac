"""What the template overrides promise: the token stays secret, any status code parses, unknown enum values live."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from yandex_market_returns_client import AuthenticatedClient, errors
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import ApiErrorResponse, CancelReturnRequest, OperationType

TOKEN = "y0_AgAAAAB-very-secret-token"
BODY = CancelReturnRequest(return_id=97211)


def _client(handler: httpx.MockTransport, **options: object) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url="https://api.partner.market.yandex.ru",
        token=TOKEN,
        httpx_args={"transport": handler},
        **options,  # type: ignore[arg-type]
    )


def _answer(status: int, body: bytes, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handle)


def test_token_goes_in_the_api_key_header_without_prefix() -> None:
    seen: list[httpx.Request] = []
    with _client(_answer(200, b'{"status":"OK"}', seen)) as client:
        cancel_return.sync_detailed(21621656, client=client, body=BODY)
    (request,) = seen
    assert request.headers["Api-Key"] == TOKEN
    assert "Authorization" not in request.headers
    assert request.url.path == "/v1/campaigns/21621656/returns/cancel"


def test_token_is_in_no_repr_or_str() -> None:
    client = _client(_answer(200, b"{}"))
    client.get_httpx_client()
    copies = [client, client.with_headers({"X-Trace": "1"}), client.with_timeout(httpx.Timeout(3.0))]
    for copy in copies:
        for text in (repr(copy), str(copy)):
            assert TOKEN not in text
            assert "token" not in text


@pytest.mark.parametrize("status", [420, 520, 299, 999])
def test_non_iana_status_does_not_crash(status: int) -> None:
    body = b'{"status":"ERROR","errors":[{"code":"HIT_RATE_LIMIT","message":"slow down"}]}'
    with _client(_answer(status, body)) as client:
        response = cancel_return.sync_detailed(21621656, client=client, body=BODY)
    assert response.status_code == status
    if status == 420:
        assert isinstance(response.parsed, ApiErrorResponse)
        assert response.parsed.errors
        assert response.parsed.errors[0].code == "HIT_RATE_LIMIT"
    else:
        assert response.parsed is None


def test_undocumented_status_raises_when_asked_to() -> None:
    client = _client(_answer(520, b"<html>bad gateway</html>"), raise_on_unexpected_status=True)
    with client, pytest.raises(errors.UnexpectedStatus) as caught:
        cancel_return.sync_detailed(21621656, client=client, body=BODY)
    assert caught.value.status_code == 520


def test_unknown_enum_value_keeps_its_raw_string() -> None:
    unknown = OperationType("ORDER_BOX_LAYOUT_UPDATE")
    assert unknown.value == "ORDER_BOX_LAYOUT_UPDATE" == str(unknown)
    assert unknown == "ORDER_BOX_LAYOUT_UPDATE"
    assert unknown not in list(OperationType)
    assert OperationType("RETURN_CANCELLATION") is OperationType.RETURN_CANCELLATION


@pytest.mark.parametrize("value", [None, 3, b"RETURN_CANCELLATION"])
def test_enum_still_rejects_what_is_not_a_string(value: Any) -> None:
    with pytest.raises(ValueError, match="is not a valid OperationType"):
        OperationType(value)


MALFORMED = {
    "not JSON": (200, b"<html><body>502 Bad Gateway</body></html>"),
    "truncated": (200, b'{"status":"OK","result":{"operation":{"id":"op'),
    "empty": (400, b""),
    "a JSON list": (200, b"[]"),
    "status missing": (500, b'{"errors":[{"code":"INTERNAL_ERROR"}]}'),
    "status not a string": (200, b'{"status":1}'),
    "operation missing": (200, b'{"status":"OK","result":{}}'),
    "operation not an object": (200, b'{"status":"OK","result":{"operation":"op-1"}}'),
    "operation type missing": (200, b'{"status":"OK","result":{"operation":{"id":"op-1"}}}'),
    "error code missing": (420, b'{"status":"ERROR","errors":[{"message":"slow down"}]}'),
    "errors not a list": (400, b'{"status":"ERROR","errors":"boom"}'),
}


@pytest.mark.parametrize("case", MALFORMED, ids=str)
def test_malformed_body_raises_our_typed_error(case: str) -> None:
    status, body = MALFORMED[case]
    with _client(_answer(status, body)) as client, pytest.raises(errors.UnexpectedResponse) as caught:
        cancel_return.sync_detailed(21621656, client=client, body=BODY)
    assert caught.value.status_code == status
    assert caught.value.content == body
    assert str(status) in str(caught.value)


def test_null_errors_parse_as_none() -> None:
    with _client(_answer(400, b'{"status":"ERROR","errors":null}')) as client:
        parsed = cancel_return.sync(21621656, client=client, body=BODY)
    assert isinstance(parsed, ApiErrorResponse)
    assert parsed.errors is None


def test_threads_racing_to_first_use_share_one_pool() -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token="t")
    start = threading.Barrier(16)

    def first_use() -> httpx.Client:
        start.wait()
        return client.get_httpx_client()

    with ThreadPoolExecutor(max_workers=16) as pool:
        pools = {id(made) for made in pool.map(lambda _: first_use(), range(16))}
    client.get_httpx_client().close()
    assert len(pools) == 1
