"""Prism, serving openapi.yaml as a validating mock, finds nothing wrong with what our clients send."""

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import ROOT, node_tool
from yandex_market_returns import AsyncReturnsClient, Operation, ReturnsClient
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest, CancelReturnResponse

VIOLATIONS = "sl-violations"


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(node_tool("prism")), "mock", "--host", "127.0.0.1", "--port", str(port), "openapi.yaml"]
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as attempt:
            if attempt.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"Prism did not start: {log.read_text()}")
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


class Recording(httpx.HTTPTransport):
    """Keeps every answer, to look for Prism's violation reports in them."""

    def __init__(self) -> None:
        super().__init__()
        self.responses: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.responses.append(response)
        return response


def test_the_generated_client_sends_what_the_spec_allows(prism: str) -> None:
    transport = Recording()
    client = AuthenticatedClient(base_url=prism, token="prism-key", httpx_args={"transport": transport})
    with client:
        response = cancel_return.sync_detailed(21621656, client=client, body=CancelReturnRequest(return_id=97211))
    assert response.status_code == 200
    assert VIOLATIONS not in response.headers, response.headers[VIOLATIONS]
    assert isinstance(response.parsed, CancelReturnResponse)
    assert response.parsed.result
    assert response.parsed.result.operation.type_ == "RETURN_CANCELLATION"


def test_returns_client_sends_what_the_spec_allows(prism: str) -> None:
    transport = Recording()
    with ReturnsClient(api_key="prism-key", base_url=prism, transport=transport) as client:
        operation = client.cancel_return(21621656, 97211)
        outcomes = client.cancel_returns(21621656, [1, 2, 3, 4, 5])
    assert isinstance(operation, Operation)
    assert all(outcome.ok for outcome in outcomes)
    assert operation.rate_limit.limit == 5000, "Prism answers with the spec's example headers"
    assert len(transport.responses) == 6
    for response in transport.responses:
        assert response.status_code == 200
        assert VIOLATIONS not in response.headers, response.headers[VIOLATIONS]


def test_the_async_client_sends_what_the_spec_allows(prism: str) -> None:
    async def main() -> list[bool]:
        async with AsyncReturnsClient(api_key="prism-key", base_url=prism) as client:
            return [outcome.ok for outcome in await client.cancel_returns(7, [8, 9])]

    assert asyncio.run(main()) == [True, True]


def test_prism_does_reject_a_request_the_spec_forbids(prism: str) -> None:
    """Otherwise the checks above would prove nothing."""
    response = httpx.post(
        f"{prism}/v1/campaigns/not-a-number/returns/cancel", headers={"Api-Key": "k"}, json={"returnId": "97211"}
    )
    assert response.status_code in (400, 422)
    violations = response.headers[VIOLATIONS]
    assert "returnId must be integer" in violations
    assert "campaignid must be integer" in violations.lower()
    unauthenticated = httpx.post(f"{prism}/v1/campaigns/1/returns/cancel", json={"returnId": 1})
    assert unauthenticated.status_code == 401
