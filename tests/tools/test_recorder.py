"""Record mode against a loopback server: the cassettes replay, conform to the spec, and hold no key."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import load, validate_recording
from tools import fake_cassettes, recorder
from tools.market_vcr import CASSETTES, RETURN_CASSETTES, RETURNS_CASSETTES, market_vcr
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest

SECRET = "y0_live-secret-key-must-not-leak"


class _EchoingMarket(BaseHTTPRequestHandler):
    """Answers like the Market, and echoes the key back in a header and the body, to prove the scrubbing."""

    def do_POST(self) -> None:
        key = self.headers.get("Api-Key", "")
        body: dict[str, object]
        self.rfile.read(int(self.headers["Content-Length"]))
        if key == SECRET:
            status = 200
            body = {"status": "OK", "echo": key, "result": {"operation": {"id": "op-1", "type": "RETURN_CANCELLATION"}}}
        else:
            status = 403
            body = {"status": "ERROR", "errors": [{"code": "FORBIDDEN", "message": f"bad key {key}"}]}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-RateLimit-Resource-Remaining", "4999")
        self.send_header("X-Echo", key)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def market() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingMarket)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_recorded_cassettes_hold_no_secret_and_conform(market: str, tmp_path: Path) -> None:
    written = recorder.record(market, SECRET, campaign_id=21621656, return_id=97211, folder=tmp_path)
    assert [path.name for path in written] == ["cancel.yaml", "wrong_key.yaml"]
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text
        assert recorder.WRONG_KEY not in text
        recording = load(path)
        assert recording.source.startswith(f"recorded live from {market}")
        assert recording.request_headers["Api-Key"] == "<API-KEY>"
        validate_recording(recording)
    cancel, wrong_key = (load(path) for path in written)
    assert (cancel.status, wrong_key.status) == (200, 403)
    assert cancel.response_json()["echo"] == "<API-KEY>"
    assert cancel.response_headers["X-Echo"] == "<API-KEY>"


def test_record_needs_the_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("YANDEX_MARKET_API_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_:
        recorder.main(["--base-url", "http://127.0.0.1:9", "--campaign-id", "1", "--return-id", "2"])
    assert exit_.value.code == 2
    assert "YANDEX_MARKET_API_KEY" in capsys.readouterr().err


def test_recorded_cassettes_replay_through_the_client(market: str, tmp_path: Path) -> None:
    for path in recorder.record(market, SECRET, campaign_id=21621656, return_id=97211, folder=tmp_path):
        recording = load(path)
        with market_vcr("none", tmp_path).use_cassette(path.name) as cassette:
            with AuthenticatedClient(base_url=market, token="another-key") as client:
                response = cancel_return.sync_detailed(21621656, client=client, body=CancelReturnRequest(97211))
            assert cassette.all_played
        assert response.status_code == recording.status
        assert response.parsed is not None
        assert response.parsed.to_dict() == recording.response_json()


def test_the_fake_market_cassettes_are_written_again_the_same_way(tmp_path: Path) -> None:
    """tools/fake_cassettes.py writes the committed getReturn and getReturns cassettes' set, each keyless,
    addressed to the Market, and conforming to the spec."""
    written = fake_cassettes.record(into=tmp_path)
    committed = {
        path.relative_to(CASSETTES.parent) for path in (*RETURN_CASSETTES.glob("*"), *RETURNS_CASSETTES.glob("*"))
    }
    assert {path.relative_to(tmp_path) for path in written} == committed
    for path in written:
        recording = load(path, tmp_path)
        assert recording.source.startswith("fake Market: ")
        assert recording.request_headers["Api-Key"] == "<API-KEY>"
        assert "127.0.0.1" not in path.read_text(encoding="utf-8")
        validate_recording(recording)
        assert load(CASSETTES.parent / path.relative_to(tmp_path)).status == recording.status
