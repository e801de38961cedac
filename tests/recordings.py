"""Cassettes read as plain data, and checked against openapi.yaml, independently of VCR.py's replay."""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import MultiDict

from tools.market_vcr import CASSETTES, LIVE_SOURCE, OPERATIONS_CASSETTES, RETURN_CASSETTES, RETURNS_CASSETTES
from yandex_market_returns_client.models import ApiErrorResponse, ApiResponseStatusType

SPEC = Path(__file__).parent.parent / "openapi.yaml"
SERVER = "https://api.partner.market.yandex.ru"
# How a cassette's metadata.source begins: where its content comes from.
SOURCES = ("documentation", "api-facts.md", "hand-made", "fake Market", LIVE_SOURCE)
_PATH = re.compile(r"^/v1/campaigns/(?P<campaign_id>[^/]+)/returns/cancel$")
_OPERATIONS_PATH = re.compile(r"^/v1/businesses/(?P<business_id>[^/]+)/operations$")


@dataclass(frozen=True)
class Recording:
    """One cassette's single interaction, and what its metadata says of it."""

    name: str
    file: Path
    source: str
    spec_deviation: str | None
    method: str
    path: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes

    @property
    def recorded_live(self) -> bool:
        return self.source.startswith(LIVE_SOURCE)

    @property
    def campaign_id(self) -> int:
        match = _PATH.match(self.path)
        assert match, f"{self.name}: {self.path} is not the cancelReturn path"
        return int(match["campaign_id"])

    @property
    def return_id(self) -> int:
        return int(json.loads(self.request_body)["returnId"])

    @property
    def business_id(self) -> int:
        match = _OPERATIONS_PATH.match(self.path)
        assert match, f"{self.name}: {self.path} is not the getOperations path"
        return int(match["business_id"])

    @property
    def operation_ids(self) -> list[str]:
        return list(json.loads(self.request_body)["operationIds"])

    @property
    def request_deviates(self) -> bool:
        """The cassette shows the Market's answer to a request the spec forbids (the answer conforms)."""
        return (self.spec_deviation or "").startswith("request:")

    def response_json(self) -> Any:
        return json.loads(self.response_body)


def _headers(recorded: dict[str, list[str]]) -> httpx.Headers:
    """Recorded headers, looked up case-insensitively (httpx records names in lower case)."""
    return httpx.Headers([(name, value) for name, values in recorded.items() for value in values])


def load(path: Path, root: Path = CASSETTES) -> Recording:
    """Read a cassette; its name is its path below root, without the suffix."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (interaction,) = data["interactions"]
    request, response = interaction["request"], interaction["response"]
    body = response["body"]["string"]
    return Recording(
        name=str(path.relative_to(root).with_suffix("")) if path.is_relative_to(root) else path.stem,
        file=path,
        source=data["metadata"]["source"],
        spec_deviation=data["metadata"].get("spec_deviation"),
        method=request["method"],
        path=re.sub(r"^[a-z]+://[^/]+", "", request["uri"]),
        request_headers=_headers(request["headers"]),
        request_body=(request["body"] or "").encode(),
        status=response["status"]["code"],
        response_headers=_headers(response["headers"]),
        response_body=body if isinstance(body, bytes) else body.encode(),
    )


def all_recordings(folder: Path = CASSETTES) -> list[Recording]:
    return [load(path, folder) for path in sorted(folder.rglob("*.yaml"))]


def every_recording() -> list[Recording]:
    """The cassettes of every method."""
    folders = (CASSETTES, OPERATIONS_CASSETTES, RETURN_CASSETTES, RETURNS_CASSETTES)
    return [recording for folder in folders for recording in all_recordings(folder)]


def recording_id(recording: Recording) -> str:
    """A test id that says which method's cassette it is: cancel_return/200_started."""
    return str(recording.file.relative_to(CASSETTES.parent).with_suffix(""))


@cache
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC))


def validate(recording: Recording, *, request: bool = True) -> None:
    """Raise openapi-core's error unless the request (when ``request``) and the response both conform to
    openapi.yaml."""
    validate_exchange(
        recording.method,
        recording.path,
        recording.request_headers,
        recording.request_body,
        recording.status,
        recording.response_headers,
        recording.response_body,
        request=request,
    )


def validate_exchange(
    method: str,
    path: str,
    request_headers: Mapping[str, str],
    request_body: bytes,
    status: int,
    response_headers: Mapping[str, str],
    response_body: bytes,
    *,
    request: bool = True,
) -> None:
    path, _, query = path.partition("?")
    mock_request = MockRequest(
        SERVER,
        method.lower(),
        path,
        args=MultiDict(parse_qsl(query, keep_blank_values=True)),  # a parameter may repeat
        headers=dict(request_headers),
        data=request_body,
        content_type=httpx.Headers(request_headers).get("Content-Type", "application/json"),
    )
    response = MockResponse(
        response_body,
        status_code=status,
        headers=dict(response_headers),
        content_type=httpx.Headers(response_headers).get("Content-Type", ""),
    )
    if request:
        openapi().validate_request(mock_request)
    openapi().validate_response(mock_request, response)


def failed(code: str, message: str) -> Callable[[object], None]:
    """A replayed error answer's check: the Market's error wrapper holding exactly this one error."""

    def check(parsed: object) -> None:
        assert isinstance(parsed, ApiErrorResponse)
        assert parsed.status is ApiResponseStatusType.ERROR
        assert isinstance(parsed.errors, list)
        assert [(e.code, e.message) for e in parsed.errors] == [(code, message)]

    return check
