"""The breaking-change check: one pair of specs per rule, each shown to trip, and the changes that must not."""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import SPEC
from tools.breaking import breaking_changes, main

PATH = "/v1/campaigns/{campaignId}/returns/cancel"
BASE = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
Change = Callable[[dict[str, Any]], None]


def _operation(spec: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"][PATH]["post"]
    return operation


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _query(name: str, required: bool = False) -> Change:
    def change(spec: dict[str, Any]) -> None:
        parameter = {"name": name, "in": "query", "required": required, "schema": {"type": "boolean"}}
        _operation(spec)["parameters"].append(parameter)

    return change


def _request_field(name: str, schema: dict[str, Any], required: bool = False) -> Change:
    def change(spec: dict[str, Any]) -> None:
        request = _schemas(spec)["CancelReturnRequest"]
        request["properties"][name] = schema
        if required:
            request["required"].append(name)

    return change


def _set(path: tuple[str, ...], value: Any) -> Change:
    """Set spec[a][b]... to value, or with None delete it, where path is (a, b, ...)."""

    def change(spec: dict[str, Any]) -> None:
        *parents, last = path
        node = spec
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


def _without_operation_type(spec: dict[str, Any]) -> None:
    operation = _schemas(spec)["OperationDTO"]
    del operation["properties"]["type"]
    operation["required"].remove("type")


def _nothing(spec: dict[str, Any]) -> None:
    """The spec as it is."""


REQUEST = ("components", "schemas", "CancelReturnRequest")
OPERATION = ("components", "schemas", "OperationDTO")
OP = ("paths", PATH, "post")
CAMPAIGN_ID = ("components", "parameters", "CampaignId", "schema")
OPERATION_ID = ("components", "schemas", "OperationId")
ERROR_CODE = ("components", "schemas", "ApiErrorDTO", "properties", "code")

# (rule, change to the old spec, change to the new spec, what the report must say)
BREAKING: list[tuple[str, Change, Change, str]] = [
    (
        "removed path",
        _nothing,
        lambda s: s["paths"].update({"/v2/cancel": s["paths"].pop(PATH)}),
        f"path {PATH} removed",
    ),
    (
        "removed operation",
        _nothing,
        lambda s: s["paths"][PATH].update({"put": s["paths"][PATH].pop("post")}),
        "POST /v1/campaigns/{campaignId}/returns/cancel: operation removed",
    ),
    (
        "renamed operation",
        _nothing,
        _set((*OP, "operationId"), "cancelReturnV2"),
        "operationId cancelReturn renamed to cancelReturnV2",
    ),
    ("removed parameter", _query("dryRun"), _nothing, "query parameter dryRun removed"),
    ("renamed parameter", _query("dryRun"), _query("dry_run"), "query parameter dryRun removed"),
    ("new required parameter", _nothing, _query("reason", required=True), "new required query parameter reason"),
    (
        "removed request property",
        _request_field("comment", {"type": "string"}),
        _nothing,
        "request body (application/json): property comment removed",
    ),
    (
        "removed response property",
        _nothing,
        _without_operation_type,
        "property type removed",
    ),
    (
        "removed request enum value",
        _request_field("reason", {"type": "string", "enum": ["A", "B"]}),
        _request_field("reason", {"type": "string", "enum": ["A"]}),
        "reason: enum value(s) ['B'] removed",
    ),
    ("removed response status", _nothing, _set((*OP, "responses", "420"), None), "response 420 removed"),
    (
        "new required request field",
        _nothing,
        _request_field("comment", {"type": "string"}, required=True),
        "new required field comment",
    ),
    (
        "narrowed type",
        _nothing,
        _set((*REQUEST, "properties", "returnId", "type"), "string"),
        "returnId: type changed from integer to string",
    ),
    (
        "narrowed format",
        _nothing,
        _set((*REQUEST, "properties", "returnId", "format"), "int32"),
        "returnId: format changed from int64 to int32",
    ),
    (
        "narrowed minimum",
        _nothing,
        _set((*CAMPAIGN_ID, "minimum"), 10),
        "path parameter campaignId: minimum raised from 1 to 10",
    ),
    (
        "new request maximum",
        _nothing,
        _set((*REQUEST, "properties", "returnId", "maximum"), 10**9),
        "maximum lowered from none to 1000000000",
    ),
    (
        "widened response bound",
        _nothing,
        _set((*OPERATION_ID, "maxLength"), 2000),
        "maxLength raised from 1000 to 2000",
    ),
    (
        "response field now optional",
        _nothing,
        _set((*OPERATION, "required"), ["type"]),
        "property id may now be missing",
    ),
    (
        "response field now nullable",
        _nothing,
        _set(("components", "schemas", "OperationType", "nullable"), True),
        "type: may now be null",
    ),
    (
        "request body no longer JSON",
        _nothing,
        lambda s: _operation(s)["requestBody"]["content"].update(
            {"application/xml": _operation(s)["requestBody"]["content"].pop("application/json")}
        ),
        "request body no longer accepted as application/json",
    ),
]

COMPATIBLE: list[tuple[str, Change]] = [
    ("the same spec", _nothing),
    ("new optional response field", _set((*OPERATION, "properties", "createdAt"), {"type": "string"})),
    ("new response enum value", lambda s: _schemas(s)["OperationType"]["enum"].append("RETURN_CREATION")),
    ("new optional request field", _request_field("comment", {"type": "string"})),
    ("new optional parameter", _query("dryRun")),
    ("widened request bound", _set((*CAMPAIGN_ID, "minimum"), 0)),
    ("narrowed response bound", _set((*ERROR_CODE, "maxLength"), 100)),
    ("new response status", _set((*OP, "responses", "404"), {"description": "Not found"})),
    ("reworded description", _set((*OP, "summary"), "Cancel one return")),
    ("new version", _set(("info", "version"), "0.2.0")),
]


def _pair(old_change: Change, new_change: Change) -> tuple[dict[str, Any], dict[str, Any]]:
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    old_change(old)
    new_change(new)
    return old, new


@pytest.mark.parametrize(("old_change", "new_change", "said"), [c[1:] for c in BREAKING], ids=[c[0] for c in BREAKING])
def test_each_rule_trips(old_change: Change, new_change: Change, said: str) -> None:
    findings = breaking_changes(*_pair(old_change, new_change))
    assert any(said in finding for finding in findings), findings


@pytest.mark.parametrize("change", [c[1] for c in COMPATIBLE], ids=[c[0] for c in COMPATIBLE])
def test_compatible_changes_pass(change: Change) -> None:
    assert breaking_changes(*_pair(_nothing, change)) == []


def test_the_command_exits_1_and_names_the_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _pair(_nothing, _set((*OP, "responses", "420"), None))
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(old))
    (tmp_path / "new.yaml").write_text(yaml.safe_dump(new))
    assert main([str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--base-name", "v0.1.0"]) == 1
    out = capsys.readouterr().out
    assert "breaking: POST /v1/campaigns/{campaignId}/returns/cancel: response 420 removed" in out
    assert "1 breaking change(s)" in out
    assert "against v0.1.0" in out
    assert main([str(tmp_path / "old.yaml"), str(tmp_path / "old.yaml")]) == 0
