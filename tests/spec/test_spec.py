"""openapi.yaml is a valid document, its examples obey its schemas, and it agrees with the Market's own spec."""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_document
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tests.helpers import SPEC

DOCUMENT: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
REFERENCE = SPEC.parent.parent / "shared" / "reference" / "yandex-market-partner-api" / "openapi"
# Each method: its path and HTTP method in openapi.yaml, and the file that describes it in the Market's own spec.
METHODS = {
    "cancelReturn": (
        "/v1/campaigns/{campaignId}/returns/cancel",
        "post",
        "v1_campaigns_campaignId_returns_cancel.yaml",
    ),
    "getOperations": ("/v1/businesses/{businessId}/operations", "post", "v1_businesses_businessId_operations.yaml"),
    "getReturn": (
        "/v2/campaigns/{campaignId}/orders/{orderId}/returns/{returnId}",
        "get",
        "v2_campaigns_campaignId_orders_orderId_returns_returnId.yaml",
    ),
    "getReturns": ("/v2/campaigns/{campaignId}/returns", "get", "v2_campaigns_campaignId_returns.yaml"),
}
OPERATIONS = {name: DOCUMENT["paths"][path][verb] for name, (path, verb, _) in METHODS.items()}
# The reads answer 404 for a return (or an order) the store does not have.
STATUSES = {"200", "400", "401", "403", "420", "500"}
READS = {"getReturn", "getReturns"}


def _deref(node: Any) -> Any:
    """Follow a local $ref one level (a response or parameter kept in components)."""
    if isinstance(node, dict) and "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return target
    return node


def _resolve(node: Any) -> Any:
    """Inline every local $ref (the document has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolve(_deref(node))
        return {key: _resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item) for item in node]
    return node


def _examples(node: Any, where: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Yield (where, example, schema) for every example that has a schema beside it."""
    if isinstance(node, dict):
        if "example" in node and "schema" in node:
            yield where, node["example"], node["schema"]
        elif "example" in node and ("type" in node or "allOf" in node):
            yield where, node["example"], {k: v for k, v in node.items() if k != "example"}
        for key, value in node.items():
            yield from _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _examples(item, f"{where}/{index}")


EXAMPLES = list(_examples(DOCUMENT))


def _check_example(example: Any, schema: Any) -> None:
    OAS30Validator(_resolve(schema), format_checker=oas30_format_checker).validate(example)


def test_document_is_valid_openapi_3_0() -> None:
    assert DOCUMENT["openapi"] == "3.0.3"
    validate_document(DOCUMENT)


def test_an_invalid_document_is_rejected() -> None:
    broken = copy.deepcopy(DOCUMENT)
    del broken["paths"][METHODS["getReturns"][0]]["get"]["responses"]
    with pytest.raises(OpenAPIValidationError):
        validate_document(broken)


def test_the_spec_has_exactly_the_four_methods() -> None:
    assert {path: list(item) for path, item in DOCUMENT["paths"].items()} == {
        path: [verb] for path, verb, _ in METHODS.values()
    }
    assert [operation["operationId"] for operation in OPERATIONS.values()] == list(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_every_response_has_an_example(method: str) -> None:
    responses = _resolve(OPERATIONS[method]["responses"])
    assert set(responses) == (STATUSES | {"404"} if method in READS else STATUSES)
    for status, response in responses.items():
        example = response["content"]["application/json"]["example"]
        assert example["status"] == ("OK" if status == "200" else "ERROR"), status


@pytest.mark.parametrize("method", METHODS)
def test_every_response_documents_the_rate_limit_headers(method: str) -> None:
    for status, response in _resolve(OPERATIONS[method]["responses"]).items():
        headers = response["headers"]
        assert set(headers) == {
            "X-RateLimit-Resource-Limit",
            "X-RateLimit-Resource-Remaining",
            "X-RateLimit-Resource-Until",
        }, status
        assert headers["X-RateLimit-Resource-Limit"]["schema"]["type"] == "integer"
        assert headers["X-RateLimit-Resource-Remaining"]["schema"]["type"] == "integer"
        assert headers["X-RateLimit-Resource-Until"]["schema"]["type"] == "string"


def test_examples_are_found() -> None:
    assert len(EXAMPLES) >= 25


@pytest.mark.parametrize(("where", "example", "schema"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_matches_its_schema(where: str, example: Any, schema: Any) -> None:
    _check_example(example, schema)


@pytest.mark.parametrize(
    ("schema", "example"),
    [
        ("CancelReturnResponse", {"status": "OK", "result": {"operation": {"id": "1", "type": "REFUND"}}}),
        ("CancelReturnResponse", {"status": "DONE"}),
        ("ApiErrorResponse", {"status": "ERROR", "errors": []}),
        ("ApiErrorDTO", {"message": "no code"}),
        ("OperationId", ""),
        ("CancelReturnRequest", {"returnId": "97211"}),
        ("GetOperationsRequest", {"operationType": "RETURN_CANCELLATION", "operationIds": []}),
        ("GetOperationsRequest", {"operationType": "RETURN_CANCELLATION", "operationIds": ["a", "a"]}),
        ("GetOperationsRequest", {"operationType": "ORDER_STATUS_UPDATE", "operationIds": [*map(str, range(101))]}),
        ("GetOperationsRequest", {"operationIds": ["a"]}),
        ("GetOperationsRequest", {"operationType": "REFUND", "operationIds": ["a"]}),
        ("GetOperationsResponse", {"status": "OK", "result": {}}),
        ("OperationResultDTO", {"id": "a", "type": "RETURN_CANCELLATION"}),
        ("OperationResultDTO", {"id": "a", "type": "RETURN_CANCELLATION", "status": "CANCELLED"}),
        ("ReturnDTO", {"id": 1, "orderId": 2, "items": []}),
        ("ReturnDTO", {"id": 1, "orderId": 2, "items": [], "returnType": "RETURN", "updateDate": "yesterday"}),
        ("ReturnDTO", {"id": 1, "orderId": 2, "items": [], "returnType": "EXCHANGE"}),
        ("ReturnItemDTO", {"shopSku": "", "count": 1}),
        ("ReturnItemDTO", {"shopSku": "   ", "count": 1}),
        ("ReturnItemDTO", {"shopSku": "A", "count": 1, "tracks": []}),
        ("MarketSku", 0),
        ("PagedReturnsDTO", {"paging": {}}),
        ("GetReturnResponse", {"status": "OK", "result": {"id": "97211"}}),
        ("CurrencyValueDTO", {"value": 1, "currencyId": "RUB"}),
    ],
)
def test_a_wrong_example_is_rejected(schema: str, example: Any) -> None:
    with pytest.raises(ValidationError):
        _check_example(example, {"$ref": f"#/components/schemas/{schema}"})


# --- agreement with the Market's own spec (../shared/reference), skipped where it is absent ---

needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"{REFERENCE} is absent")
IGNORED = {"description", "example", "title"}


def _normalise(node: Any) -> Any:
    """The facts that matter to a generator: names, types, formats, bounds; $refs reduced to the name.

    Vendor extensions (``x-transform: trim``, ``x-aliases``, ``x-serialize-transform``) are left out: they
    are hints to the Market's own tooling that change nothing a client sends or receives.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            return {"$ref": Path(node["$ref"]).name.removesuffix(".yaml")}
        return {
            key: _normalise(value) for key, value in node.items() if key not in IGNORED and not key.startswith("x-")
        }
    if isinstance(node, list):
        return [_normalise(item) for item in node]
    return node


def _reference(kind: str, name: str) -> Any:
    return yaml.safe_load((REFERENCE / "components" / kind / f"{name}.yaml").read_text(encoding="utf-8"))


SCHEMAS = [
    "CancelReturnRequest",
    "CancelReturnResponse",
    "CancelReturnDTO",
    "OperationDTO",
    "OperationId",
    "OperationType",
    "ApiResponse",
    "ApiResponseStatusType",
    "ApiErrorResponse",
    "ApiErrorDTO",
    "ApiClientDataErrorResponse",
    "ApiUnauthorizedErrorResponse",
    "ApiForbiddenErrorResponse",
    "ApiLimitErrorResponse",
    "ApiServerErrorResponse",
    "GetOperationsRequest",
    "GetOperationsResponse",
    "GetOperationsResultDTO",
    "OperationResultDTO",
    "OperationStatusType",
    "ApiNotFoundErrorResponse",
    "GetReturnResponse",
    "GetReturnsResponse",
    "PagedReturnsDTO",
    "PackagingForwardScrollingPagerDTO",
    "ReturnDTO",
    "ReturnShipmentStatusType",
    "RefundStatusType",
    "ReturnType",
    "RecipientType",
    "LogisticPickupPointDTO",
    "PickupAddressDTO",
    "LogisticPointType",
    "CurrencyValueDTO",
    "CurrencyType",
    "ReturnItemDTO",
    "MarketSku",
    "ShopSku",
    "ReturnDecisionDTO",
    "ReturnDecisionReasonType",
    "ReturnDecisionSubreasonType",
    "ReturnDecisionType",
    "ReturnInstanceDTO",
    "ReturnInstanceStatusType",
    "ReturnInstanceStockType",
    "TrackDTO",
]


def test_the_spec_has_exactly_the_upstream_schema_names() -> None:
    assert sorted(DOCUMENT["components"]["schemas"]) == sorted(SCHEMAS)


@needs_reference
@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_matches_reference(name: str) -> None:
    ours = _normalise(DOCUMENT["components"]["schemas"][name])
    assert ours == _normalise(_reference("schemas", name))


@needs_reference
@pytest.mark.parametrize(
    "name", ["CampaignId", "BusinessId", "OrderId", "ReturnId", "AliasedPageToken", "PageLimit100Truncate"]
)
def test_parameter_matches_reference(name: str) -> None:
    ours = _normalise(DOCUMENT["components"]["parameters"][name])
    assert ours == _normalise(_reference("parameters", name))


@needs_reference
@pytest.mark.parametrize("method", METHODS)
def test_operation_matches_reference(method: str) -> None:
    operation = OPERATIONS[method]
    _, verb, name = METHODS[method]
    theirs = yaml.safe_load((REFERENCE / "paths" / name).read_text(encoding="utf-8"))[verb]
    assert operation["operationId"] == theirs["operationId"] == method
    assert [_normalise(p) for p in operation["parameters"]] == [_normalise(p) for p in theirs["parameters"]]
    assert set(operation["tags"]) <= set(theirs["tags"])
    assert operation["security"] == [{"ApiKey": []}, {"OAuth": ["market:partner-api"]}]
    for access in theirs["x-auth-scopes"]:
        assert f"`{access}`" in operation["description"]
    assert str(theirs["x-resource-limit-config"]["none"]["amount"]) in operation["description"].replace(",", "")
    assert ("requestBody" in operation) is ("requestBody" in theirs)
    if "requestBody" in theirs:
        assert operation["requestBody"]["required"] is theirs["requestBody"]["required"]
        assert _normalise(operation["requestBody"]["content"]["application/json"]["schema"]) == _normalise(
            theirs["requestBody"]["content"]["application/json"]["schema"]
        )
    assert set(operation["responses"]) == set(theirs["responses"])
    for status, reference in operation["responses"].items():
        response = _deref(reference)
        upstream = theirs["responses"][status]
        if "$ref" in upstream:
            upstream = _reference("responses", status)
        assert "headers" in response, f"{method} {status}: the rate-limit headers"
        schema = response["content"]["application/json"]["schema"]
        assert _normalise(schema) == _normalise(upstream["content"]["application/json"]["schema"]), status


@needs_reference
def test_security_schemes_match_reference() -> None:
    theirs = yaml.safe_load((REFERENCE / "components" / "securitySchemes.yaml").read_text(encoding="utf-8"))
    ours = DOCUMENT["components"]["securitySchemes"]
    assert _normalise(ours["ApiKey"]) == _normalise(theirs["ApiKey"])
    assert set(ours["OAuth"]["flows"]["implicit"]["scopes"]) == set(theirs["OAuth"]["flows"]["implicit"]["scopes"])
    assert (
        ours["OAuth"]["flows"]["implicit"]["authorizationUrl"]
        == theirs["OAuth"]["flows"]["implicit"]["authorizationUrl"]
    )
