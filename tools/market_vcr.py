"""The VCR.py set-up shared by replay and record: one scrubbing rule and one notion of "the same request"."""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import vcr
from vcr.request import Request

CASSETTES = Path(__file__).parent.parent / "tests" / "cassettes" / "cancel_return"
OPERATIONS_CASSETTES = CASSETTES.parent / "get_operations"
RETURN_CASSETTES = CASSETTES.parent / "get_return"
RETURNS_CASSETTES = CASSETTES.parent / "get_returns"
# How the metadata.source of a cassette that `make record` wrote begins.
LIVE_SOURCE = "recorded live"

# What a secret header's value becomes in a cassette. Replay scrubs the live request the same way before
# matching, so a recorded "<API-KEY>" matches any request that carries the header and none that lacks it.
SCRUBBED_HEADERS = {"Api-Key": "<API-KEY>", "Authorization": "<AUTHORIZATION>"}


def _json_body(r1: Request, r2: Request) -> None:
    assert json.loads(r1.body or b"null") == json.loads(r2.body or b"null"), "JSON bodies differ"


def _credentials(r1: Request, r2: Request) -> None:
    for name in SCRUBBED_HEADERS:
        assert r1.headers.get(name) == r2.headers.get(name), f"{name} header differs"


def _scrubber(secrets: Iterable[str]) -> Any:
    """A before_record hook that removes each secret from whatever it is given (a request or a response)."""
    pairs = [(secret.encode(), SCRUBBED_HEADERS["Api-Key"].encode()) for secret in secrets if secret]

    def scrub_bytes(data: Any) -> Any:
        if isinstance(data, str):
            return scrub_bytes(data.encode()).decode()
        if isinstance(data, bytes):
            for secret, placeholder in pairs:
                data = data.replace(secret, placeholder)
        return data

    def scrub(item: Any) -> Any:
        if isinstance(item, Request):
            item.uri = scrub_bytes(item.uri)
            item.body = scrub_bytes(item.body)
            item.headers = {name: scrub_bytes(value) for name, value in item.headers.items()}
        else:
            headers = {name: [scrub_bytes(v) for v in values] for name, values in item["headers"].items()}
            body = item["body"]["string"] = scrub_bytes(item["body"]["string"])
            for name in headers:
                if name.lower() == "content-length":
                    headers[name] = [str(len(body))]
            item["headers"] = headers
        return item

    return scrub


def market_vcr(record_mode: str, cassette_dir: Path = CASSETTES, secrets: tuple[str, ...] = ()) -> Any:
    """A VCR for the cassettes of either method; when recording, every secret is scrubbed wherever it appears."""
    scrub = _scrubber(secrets) if secrets else None
    recorder = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode=record_mode,
        filter_headers=list(SCRUBBED_HEADERS.items()),
        before_record_request=scrub,
        before_record_response=scrub,
        decode_compressed_response=True,
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body", "credentials"],
    )
    recorder.register_matcher("json_body", _json_body)
    recorder.register_matcher("credentials", _credentials)
    return recorder
