"""The VCR.py set-up shared by replay and record: one scrubbing rule and one notion of "the same request"."""

import json
from pathlib import Path

import vcr
from vcr.request import Request

CASSETTES = Path(__file__).parent / "cassettes" / "cancel_return"

# What a secret header's value becomes in a cassette. Replay scrubs the live request the same way before
# matching, so a recorded "<API-KEY>" matches any request that carries the header and none that lacks it.
SCRUBBED_HEADERS = {"Api-Key": "<API-KEY>", "Authorization": "<AUTHORIZATION>"}


def _json_body(r1: Request, r2: Request) -> None:
    assert json.loads(r1.body or b"null") == json.loads(r2.body or b"null"), "JSON bodies differ"


def _credentials(r1: Request, r2: Request) -> None:
    for name in SCRUBBED_HEADERS:
        assert r1.headers.get(name) == r2.headers.get(name), f"{name} header differs"


def market_vcr(record_mode: str, cassette_dir: Path = CASSETTES) -> vcr.VCR:
    recorder = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode=record_mode,
        filter_headers=list(SCRUBBED_HEADERS.items()),
        decode_compressed_response=True,
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body", "credentials"],
    )
    recorder.register_matcher("json_body", _json_body)
    recorder.register_matcher("credentials", _credentials)
    return recorder
