// Compiled by tests/spec/test_other_tools.py against the types openapi-typescript makes from openapi.yaml.
import type { components, paths } from "./openapi";

type CancelReturn = paths["/v1/campaigns/{campaignId}/returns/cancel"]["post"];
type Started = CancelReturn["responses"][200]["content"]["application/json"];
type Limited = CancelReturn["responses"][420];

const path: CancelReturn["parameters"]["path"] = { campaignId: 21621656 };
const body: components["schemas"]["CancelReturnRequest"] = { returnId: 97211 };

export function operationOf(answer: Started): { id: string; type: components["schemas"]["OperationType"] } | undefined {
  return answer.result?.operation;
}

export function remaining(answer: Limited): number | undefined {
  return answer.headers["X-RateLimit-Resource-Remaining"];
}

export function messages(answer: components["schemas"]["ApiErrorResponse"]): string[] {
  return (answer.errors ?? []).map((error) => `${error.code}: ${error.message ?? ""}`);
}

const started: Started = {
  status: "OK",
  result: { operation: { id: "6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13", type: "RETURN_CANCELLATION" } },
};

export const example = { path, body, started };
