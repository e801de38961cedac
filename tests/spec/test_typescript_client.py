"""A TypeScript client made from openapi.yaml by third-party tools (openapi-typescript's types, openapi-fetch)
reads the fake Market's answers as the spec types them: the spec serves clients beyond the Python one."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, SPEC, node_tool
from yandex_market_returns._rate_limit import LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER
from yandex_market_returns.testing import Exchange, FakeMarket

# Git-ignored, and under the root so that Node and tsc find openapi-fetch in its node_modules/.
BUILD = ROOT / "build" / "typescript-fetch"
PROGRAM = ROOT / "tests" / "spec" / "typescript" / "fetch_client.mts"
# Node's own module rules, so that tsc checks the import of openapi-fetch as Node will run it. No @types
# packages: the program declares the little of Node it uses. The declaration files themselves are checked
# by test_other_tools.py; here only the program's use of them, which is what a wrong field breaks.
COMPILER_OPTIONS: dict[str, object] = {
    "strict": True,
    "noUncheckedIndexedAccess": True,
    "target": "es2022",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "types": [],
    "skipLibCheck": True,
}
CAMPAIGN = 21621656
CANCELLED, LIMITED = 97211, 97212


def _run(*command: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=BUILD, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _tsc(source: str, **options: object) -> subprocess.CompletedProcess[str]:
    """Compile one file of BUILD through a tsconfig of its own: only a tsconfig can turn the automatic @types off."""
    config = BUILD / f"{Path(source).stem}.tsconfig.json"
    config.write_text(json.dumps({"compilerOptions": COMPILER_OPTIONS | options, "files": [source]}), encoding="utf-8")
    return _run(node_tool("tsc"), "--project", config)


@pytest.fixture(scope="module")
def program() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    made = _run(node_tool("openapi-typescript"), SPEC, "--output", BUILD / "openapi.d.ts")
    assert made.returncode == 0, made.stdout + made.stderr
    shutil.copy(PROGRAM, BUILD)
    compiled = _tsc(PROGRAM.name)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return BUILD / "fetch_client.mjs"


def _rate_limit(exchange: Exchange) -> dict[str, object]:
    """The rate-limit headers the fake Market sent, typed as the spec's components/headers type them."""
    sent = exchange.response_headers
    return {
        LIMIT_HEADER: int(sent[LIMIT_HEADER]),
        REMAINING_HEADER: int(sent[REMAINING_HEADER]),
        UNTIL_HEADER: sent[UNTIL_HEADER],
    }


def test_a_cancellation_a_400_and_a_420_read_through_the_generated_types(program: Path) -> None:
    # Two requests an hour: the cancellation and the refused second one use them up, so the third is a 420.
    with FakeMarket(hourly_limit=2) as market:
        market.add_returns(CAMPAIGN, CANCELLED, LIMITED)
        ran = _run(
            "node",
            program,
            market.base_url,
            str(CAMPAIGN),
            *(str(return_id) for return_id in (CANCELLED, CANCELLED, LIMITED)),
            env={**os.environ, "MARKET_API_KEY": market.api_key},
        )
        exchanges, operations = market.exchanges, market.operations
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert market.api_key not in ran.stdout + ran.stderr
    started, refused, limited = (json.loads(line) for line in ran.stdout.splitlines())
    assert started == {
        "returnId": CANCELLED,
        "http": 200,
        "rateLimit": _rate_limit(exchanges[0]),
        "status": "OK",
        "operation": {"id": operations[0].id, "type": "RETURN_CANCELLATION"},
    }
    assert refused == {
        "returnId": CANCELLED,
        "http": 400,
        "rateLimit": _rate_limit(exchanges[1]),
        "status": "ERROR",
        "code": "BAD_REQUEST",
        "message": f"Return {CANCELLED} can't be cancelled: its shipmentStatus is CANCELLED, not CREATED",
    }
    assert limited == {
        "returnId": LIMITED,
        "http": 420,
        "rateLimit": _rate_limit(exchanges[2]),
        "status": "ERROR",
        "code": "HIT_RATE_LIMIT",
        "message": f"Hit rate limit of 2 requests per hour for campaignId {CAMPAIGN}",
    }
    assert limited["rateLimit"][LIMIT_HEADER] == 2
    assert limited["rateLimit"][REMAINING_HEADER] == 0


def test_a_wrong_field_anywhere_in_the_program_does_not_compile(program: Path) -> None:
    """Proves that openapi-fetch's request, data, error and the headers' names are typed by the spec, not any."""
    source = PROGRAM.read_text(encoding="utf-8")
    mistakes = {
        "body: { returnId }": ("body: { returnID: returnId }", "'returnID' does not exist"),
        "operation.id": ("operation.operationId", "'operationId' does not exist"),
        "first?.code": ("first?.reason", "'reason' does not exist"),
        '"X-RateLimit-Resource-Until")': ('"X-RateLimit-Resource-Untl")', '"X-RateLimit-Resource-Untl"'),
    }
    for right, (wrong, _) in mistakes.items():
        assert source.count(right) == 1, right
        source = source.replace(right, wrong)
    (BUILD / "wrong_fields.mts").write_text(source, encoding="utf-8")
    compiled = _tsc("wrong_fields.mts", noEmit=True)
    assert compiled.returncode != 0
    for _, error in mistakes.values():
        assert error in compiled.stdout
