"""Changes to openapi.yaml that would break a client built from an earlier version (``make breaking``).

Breaking: a removed path, operation (or a renamed operationId), parameter, property, request enum value,
request content type or response status; a new required parameter or request field; a changed type or
format; a request bound narrowed, or a response bound widened (a client that checks it would refuse
the answer); a response field that may now be missing or null.

Not breaking: new optional request fields, new response fields and new response enum values (the clients
made here keep unknown fields and enum values; other teams are told to do the same), widened request
bounds, narrowed response bounds.
"""

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Schema = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# (lower bound, upper bound) keyword pairs: a request narrows when its lower rises or its upper falls.
BOUNDS = (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems"))
INT_FORMATS = ("int32", "int64")


class Document:
    """A spec with its local $refs resolved on demand."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def resolve(self, node: Any) -> Any:
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                raise ValueError(f"cannot resolve {ref}")
            seen.add(ref)
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def flat(self, node: Any) -> Schema:
        """The schema with its allOf members merged in: properties, required and the rest."""
        schema = dict(self.resolve(node) or {})
        members = schema.pop("allOf", [])
        properties = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        for member in members:
            merged = self.flat(member)
            properties.update(merged.pop("properties", {}))
            required += merged.pop("required", [])
            schema = {**merged, **schema}
        if properties:
            schema["properties"] = properties
        if required:
            schema["required"] = sorted(set(required))
        return schema


class Comparison:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = Document(old), Document(new)
        self.findings: list[str] = []
        self._compared: set[tuple[str, int, int]] = set()

    def run(self) -> list[str]:
        old_paths, new_paths = self.old.spec.get("paths", {}), self.new.spec.get("paths", {})
        for path, old_item in old_paths.items():
            if path not in new_paths:
                self.findings.append(f"path {path} removed")
                continue
            new_item = new_paths[path]
            for method in METHODS:
                if method in old_item and method not in new_item:
                    self.findings.append(f"{method.upper()} {path}: operation removed")
                elif method in old_item:
                    self._operation(f"{method.upper()} {path}", old_item, new_item, method)
        return self.findings

    def _operation(self, where: str, old_item: dict[str, Any], new_item: dict[str, Any], method: str) -> None:
        old, new = old_item[method], new_item[method]
        if old.get("operationId") != new.get("operationId"):
            self.findings.append(f"{where}: operationId {old.get('operationId')} renamed to {new.get('operationId')}")
        old_parameters = self._parameters(self.old, old_item, old)
        new_parameters = self._parameters(self.new, new_item, new)
        for key, parameter in old_parameters.items():
            if key not in new_parameters:
                self.findings.append(f"{where}: {key[0]} parameter {key[1]} removed")
            else:
                self._schema(
                    f"{where}: {key[0]} parameter {key[1]}",
                    parameter.get("schema"),
                    new_parameters[key].get("schema"),
                    "request",
                )
        for key, parameter in new_parameters.items():
            if key not in old_parameters and parameter.get("required"):
                self.findings.append(f"{where}: new required {key[0]} parameter {key[1]}")
        self._request_body(where, old.get("requestBody"), new.get("requestBody"))
        old_responses, new_responses = old.get("responses", {}), new.get("responses", {})
        for status, response in old_responses.items():
            if status not in new_responses:
                self.findings.append(f"{where}: response {status} removed")
                continue
            old_content = self.old.resolve(response).get("content", {})
            new_content = self.new.resolve(new_responses[status]).get("content", {})
            for media, body in old_content.items():
                if media in new_content:
                    self._schema(
                        f"{where}: response {status} ({media})",
                        body.get("schema"),
                        new_content[media].get("schema"),
                        "response",
                    )
                else:
                    self.findings.append(f"{where}: response {status} no longer {media}")

    def _parameters(
        self, document: Document, item: dict[str, Any], operation: dict[str, Any]
    ) -> dict[tuple[str, str], Schema]:
        parameters = {}
        for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
            resolved = document.resolve(parameter)
            parameters[resolved["in"], resolved["name"]] = resolved
        return parameters

    def _request_body(self, where: str, old: Any, new: Any) -> None:
        old_body, new_body = self.old.resolve(old) or {}, self.new.resolve(new) or {}
        if new_body.get("required") and not old_body.get("required"):
            self.findings.append(f"{where}: request body now required")
        new_content = new_body.get("content", {})
        for media, body in old_body.get("content", {}).items():
            if media not in new_content:
                self.findings.append(f"{where}: request body no longer accepted as {media}")
            else:
                self._schema(
                    f"{where}: request body ({media})", body.get("schema"), new_content[media].get("schema"), "request"
                )

    def _schema(self, where: str, old_node: Any, new_node: Any, direction: str) -> None:
        key = (direction, id(old_node), id(new_node))
        if key in self._compared or old_node is None or new_node is None:
            return
        self._compared.add(key)
        old, new = self.old.flat(old_node), self.new.flat(new_node)
        found = self.findings.append
        if "type" in old and "type" in new and old["type"] != new["type"]:
            found(f"{where}: type changed from {old['type']} to {new['type']}")
        self._format(where, old.get("format"), new.get("format"), direction)
        for change in _bound_changes(old, new):
            if change[0] == direction:
                found(f"{where}: {change[1]}")
        old_values, new_values = set(map(str, old.get("enum", []))), set(map(str, new.get("enum", [])))
        if direction == "request" and old_values - new_values and new_values:
            found(f"{where}: enum value(s) {sorted(old_values - new_values)} removed")
        if direction == "request" and new_values and not old_values:
            found(f"{where}: now limited to the values {sorted(new_values)}")
        if direction == "response" and new.get("nullable") and not old.get("nullable"):
            found(f"{where}: may now be null")
        if direction == "request" and old.get("nullable") and not new.get("nullable"):
            found(f"{where}: no longer accepts null")
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, schema in old_properties.items():
            if name not in new_properties:
                found(f"{where}: property {name} removed")
                continue
            if direction == "response" and name in old_required and name not in new_required:
                found(f"{where}: property {name} may now be missing")
            self._schema(f"{where}.{name}", schema, new_properties[name], direction)
        if direction == "request":
            for name in sorted(new_required - old_required):
                found(f"{where}: new required field {name}")
        if "items" in old and "items" in new:
            self._schema(f"{where}[]", old["items"], new["items"], direction)

    def _format(self, where: str, old: str | None, new: str | None, direction: str) -> None:
        if old == new or old is None:
            return
        if old in INT_FORMATS and new in INT_FORMATS:
            narrower = INT_FORMATS.index(new) < INT_FORMATS.index(old)
            if narrower == (direction == "request"):
                self.findings.append(f"{where}: format changed from {old} to {new}")
        else:
            self.findings.append(f"{where}: format changed from {old} to {new}")


def _bound_changes(old: Schema, new: Schema) -> Iterator[tuple[str, str]]:
    """(the direction in which the change breaks clients, what changed)."""
    for low, high in BOUNDS:
        if low in new and (low not in old or new[low] > old[low]):
            yield "request", f"{low} raised from {old.get(low, 'none')} to {new[low]}"
        if low in old and (low not in new or new[low] < old[low]):
            yield "response", f"{low} lowered from {old[low]} to {new.get(low, 'none')}"
        if high in new and (high not in old or new[high] < old[high]):
            yield "request", f"{high} lowered from {old.get(high, 'none')} to {new[high]}"
        if high in old and (high not in new or new[high] > old[high]):
            yield "response", f"{high} raised from {old[high]} to {new.get(high, 'none')}"


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return Comparison(old, new).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--base-name", help="how to name the old file in the report")
    args = parser.parse_args(argv)
    old, new = (yaml.safe_load(path.read_text(encoding="utf-8")) for path in (args.old, args.new))
    findings = breaking_changes(old, new)
    base = args.base_name or str(args.old)
    for finding in findings:
        print(f"breaking: {finding}")
    print(
        f"{len(findings)} breaking change(s) in {args.new} against {base}"
        if findings
        else f"no breaking changes in {args.new} against {base}"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
