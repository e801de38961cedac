"""A Java client made from openapi.yaml by openapi-generator (the java generator's `native` library, stock
templates) compiles and reads the fake Market's answers as the spec types them: what a Java team would use."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from attrs import frozen

from tests.helpers import ROOT, SPEC, debian_jar
from yandex_market_returns._rate_limit import LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER
from yandex_market_returns.testing import Canned, Exchange, FakeMarket

BUILD = ROOT / "build" / "java"  # git-ignored, like all generated output
PROGRAM = ROOT / "tests" / "spec" / "java" / "Main.java"
PACKAGE = "market.client"
# The generator as a Java team runs it: stock templates and no --model-name-mappings, so that the tests see the
# names such a team gets.
GENERATE = [
    "generate",
    "-g",
    "java",
    "--library",
    "native",
    "-i",
    str(SPEC),
    "--global-property",
    "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false",
    "--additional-properties="
    + ",".join(
        [
            "enumUnknownDefaultCase=true",
            "openApiNullable=false",
            "annotationLibrary=none",
            "useJakartaEe=true",
            "hideGenerationTimestamp=true",
            f"invokerPackage={PACKAGE}",
            f"apiPackage={PACKAGE}.api",
            f"modelPackage={PACKAGE}.model",
        ]
    ),
]
# Short-lived JVMs: the C1 compiler alone starts them seconds sooner on a small machine. The generator's
# wrapper passes JAVA_OPTS on as one argument, so it holds one flag.
QUICK = "-XX:TieredStopAtLevel=1"
CAMPAIGN, BUSINESS = 21621656, FakeMarket.DEFAULT_BUSINESS
CANCELLED, LIMITED = 97211, 97212
KNOWN, ADDED_LATER = "5f0c7a2e-1b3d-4c8e-9a6f-0d2b4e6a8c10", "c0ffee00-0000-4000-8000-000000000001"


@frozen
class JavaClient:
    sources: Path  # the generator's output folder
    generator_log: str
    classpath: str  # the compiled client and Main, then the jars they need


def _run(*command: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=BUILD, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _generator_jar() -> Path:
    """The pinned openapi-generator's jar: it bundles Jackson with jackson-datatype-jsr310, which Debian lacks."""
    spec = importlib.util.find_spec("openapi_generator_cli")
    if spec is None or not spec.submodule_search_locations:
        raise AssertionError("openapi-generator-cli is missing: run the tests with `make test`, which installs it")
    return Path(spec.submodule_search_locations[0]) / "openapi-generator.jar"


@pytest.fixture(scope="module")
def java_client() -> JavaClient:
    """Generate and compile once: javac and the generator are most of the module's time."""
    javac = shutil.which("javac")
    assert javac is not None, "javac is missing: the Java client test needs a JDK 17 or newer, not only a JRE"
    # The generated code is annotated with jakarta.annotation.*, in neither the JDK nor the generator's jar.
    classpath = [_generator_jar(), debian_jar("jakarta-annotation-api.jar", "libjakarta-annotation-api-java")]
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    sources = BUILD / "gen"
    generator = Path(sys.executable).parent / "openapi-generator-cli"  # from requirements-dev.txt, beside pytest
    made = _run(generator, *GENERATE, "-o", sources, env={**os.environ, "JAVA_OPTS": QUICK})
    assert made.returncode == 0, made.stdout + made.stderr
    classes = BUILD / "classes"
    # -proc:none: the generator's jar carries Lombok's annotation processor, which javac would otherwise run.
    compiled = _run(
        javac,
        f"-J{QUICK}",
        "-proc:none",
        "-nowarn",
        "-encoding",
        "UTF-8",
        "-d",
        classes,
        "-cp",
        os.pathsep.join(map(str, classpath)),
        *sorted((sources / "src" / "main" / "java").rglob("*.java")),
        PROGRAM,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return JavaClient(sources, made.stdout + made.stderr, os.pathsep.join(map(str, [classes, *classpath])))


def test_the_spec_s_apiresponse_schema_becomes_modelapiresponse(java_client: JavaClient) -> None:
    """ApiResponse is the name of the client's own wrapper class (the ...WithHttpInfo methods return it), so the
    generator renames the schema; nothing else refers to it, as the spec uses it only as an allOf part."""
    package = java_client.sources / "src" / "main" / "java" / Path(*PACKAGE.split("."))
    models = {path.stem for path in (package / "model").glob("*.java")}
    assert "ModelApiResponse" in models
    assert "ApiResponse" not in models
    assert (package / "ApiResponse.java").exists()
    assert "ApiResponse (reserved word) cannot be used as model name. Renamed to ModelApiResponse" in (
        java_client.generator_log
    )
    users = [path.name for path in package.rglob("*.java") if "ModelApiResponse" in path.read_text(encoding="utf-8")]
    assert users == ["ModelApiResponse.java"]


def test_the_native_library_generates_no_authentication(java_client: JavaClient) -> None:
    """Main.java adds the Api-Key header with a request interceptor: the generated code never sends it."""
    sources = (java_client.sources / "src" / "main" / "java").rglob("*.java")
    assert not [path.name for path in sources if "Api-Key" in path.read_text(encoding="utf-8")]


def _rate_limit(exchange: Exchange) -> dict[str, str]:
    """The rate-limit headers the fake Market sent, as text: the generated code does not type headers."""
    return {name: exchange.response_headers[name] for name in (LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER)}


def _body(exchange: Exchange) -> str:
    return exchange.response_body.decode()


def test_operations_a_cancellation_a_400_and_a_420_read_through_the_generated_classes(
    java_client: JavaClient,
) -> None:
    """One JVM for every call, as JVMs start slowly: getOperations first, as the canned answer goes to the first
    request, then three cancellations under a limit of two an hour, so that the third is a 420."""
    operations = {
        "status": "OK",
        "result": {
            "operations": [
                {"id": KNOWN, "type": "RETURN_CANCELLATION", "status": "DONE"},
                # Values a later Market may send: the generated enums turn them into UNKNOWN_DEFAULT_OPEN_API.
                {"id": ADDED_LATER, "type": "A_TYPE_ADDED_LATER", "status": "A_STATUS_ADDED_LATER"},
            ]
        },
    }
    headers = {
        "Content-Type": "application/json",
        LIMIT_HEADER: "1000",
        REMAINING_HEADER: "999",
        UNTIL_HEADER: "Fri, 27 Nov 2026 14:00:00 GMT",
    }
    with FakeMarket(hourly_limit=2) as market:
        market.add_returns(CAMPAIGN, CANCELLED, LIMITED)
        market.inject(Canned(200, json.dumps(operations).encode(), headers))
        ran = _run(
            "java",
            QUICK,
            "-cp",
            java_client.classpath,
            "Main",
            market.base_url,
            str(BUSINESS),
            f"{KNOWN},{ADDED_LATER}",
            str(CAMPAIGN),
            *(str(return_id) for return_id in (CANCELLED, CANCELLED, LIMITED)),
            env={**os.environ, "MARKET_API_KEY": market.api_key},
        )
        exchanges, started_operations = market.exchanges, market.operations
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert market.api_key not in ran.stdout + ran.stderr
    assert [exchange.headers.get("Api-Key") for exchange in exchanges] == ["<API-KEY>"] * 4
    assert json.loads(exchanges[0].body) == {
        "operationType": "RETURN_CANCELLATION",
        "operationIds": [KNOWN, ADDED_LATER],
    }
    listed, started, refused, limited = (json.loads(line) for line in ran.stdout.splitlines())
    assert listed == {
        "call": "getOperations",
        "http": 200,
        "rateLimit": _rate_limit(exchanges[0]),
        "status": "OK",
        "operations": [
            {"id": KNOWN, "type": "RETURN_CANCELLATION", "status": "DONE"},
            {"id": ADDED_LATER, "type": "UNKNOWN_DEFAULT_OPEN_API", "status": "UNKNOWN_DEFAULT_OPEN_API"},
        ],
    }
    assert started == {
        "call": "cancelReturn",
        "returnId": CANCELLED,
        "http": 200,
        "rateLimit": _rate_limit(exchanges[1]),
        "status": "OK",
        "operation": {"id": started_operations[0].id, "type": "RETURN_CANCELLATION"},
    }
    assert [operation.return_id for operation in started_operations] == [CANCELLED]
    assert refused == {
        "call": "cancelReturn",
        "returnId": CANCELLED,
        "http": 400,
        "rateLimit": _rate_limit(exchanges[2]),
        "exception": f"cancelReturn call failed with: 400 - {_body(exchanges[2])}",
        "body": _body(exchanges[2]),
        "error": {
            "model": "ApiClientDataErrorResponse",
            "status": "ERROR",
            "code": "BAD_REQUEST",
            "message": f"Return {CANCELLED} can't be cancelled: its shipmentStatus is CANCELLED, not CREATED",
        },
    }
    assert limited == {
        "call": "cancelReturn",
        "returnId": LIMITED,
        "http": 420,
        "rateLimit": _rate_limit(exchanges[3]),
        "exception": f"cancelReturn call failed with: 420 - {_body(exchanges[3])}",
        "body": _body(exchanges[3]),
        "error": {
            "model": "ApiLimitErrorResponse",
            "status": "ERROR",
            "code": "HIT_RATE_LIMIT",
            "message": f"Hit rate limit of 2 requests per hour for campaignId {CAMPAIGN}",
        },
    }
    assert limited["rateLimit"][LIMIT_HEADER] == "2"
    assert limited["rateLimit"][REMAINING_HEADER] == "0"
