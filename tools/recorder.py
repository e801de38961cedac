"""`make record`: fresh cancelReturn cassettes from a live server, with the API key scrubbed everywhere.

Two requests are recorded, each into its own cassette under tests/cassettes/cancel_return/live/:
`cancel` (the real key; the Market really starts cancelling RETURN_ID if it can) and `wrong_key`
(a made-up key, so the Market's answer to bad credentials is recorded too).
"""

import argparse
import datetime
import os
import sys
from pathlib import Path

from tools.market_vcr import CASSETTES, LIVE_SOURCE, market_vcr
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import CancelReturnRequest

LIVE = CASSETTES / "live"
WRONG_KEY = "recording-wrong-key-0000"


def record(base_url: str, api_key: str, campaign_id: int, return_id: int, folder: Path = LIVE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    written = []
    for scenario, key in (("cancel", api_key), ("wrong_key", WRONG_KEY)):
        path = folder / f"{scenario}.yaml"
        path.unlink(missing_ok=True)
        recorder = market_vcr("all", folder, secrets=(api_key, WRONG_KEY))
        with recorder.use_cassette(path.name) as cassette:
            cassette.get_metadata("source", f"{LIVE_SOURCE} from {base_url} on {today} by make record ({scenario})")
            with AuthenticatedClient(base_url=base_url, token=key) as client:
                cancel_return.sync_detailed(campaign_id, client=client, body=CancelReturnRequest(return_id=return_id))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make record", description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--campaign-id", type=int, required=True)
    parser.add_argument("--return-id", type=int, required=True)
    args = parser.parse_args(argv)
    api_key = os.environ.get("YANDEX_MARKET_API_KEY", "")
    if not api_key:
        parser.error("set YANDEX_MARKET_API_KEY to the API-Key token to record with")
    for path in record(args.base_url, api_key, args.campaign_id, args.return_id):
        print(f"recorded {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
