// Must NOT compile: a field name the spec does not have. Proves the check of usage.ts can fail.
import type { components } from "./openapi";

export const body: components["schemas"]["CancelReturnRequest"] = { return_id: 97211 };
