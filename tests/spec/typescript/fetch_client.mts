// Run by tests/spec/test_typescript_client.py: openapi-fetch over the types openapi-typescript makes from openapi.yaml.
// Usage: node fetch_client.mjs BASE_URL CAMPAIGN_ID RETURN_ID...; the key comes from MARKET_API_KEY, never argv.
// Cancels the returns in order and prints one JSON line per answer, every field read through the spec's types.
import createClient from "openapi-fetch";
import type { components, paths } from "./openapi.js";

type RateLimit = components["headers"];

// The little of Node the program uses, declared here rather than taken from whichever @types/node the
// other tools happen to pull in.
declare const process: { argv: string[]; env: Record<string, string | undefined> };

const [baseUrl, campaign, ...returnIds] = process.argv.slice(2);
const apiKey = process.env["MARKET_API_KEY"];
if (baseUrl === undefined || campaign === undefined || returnIds.length === 0 || apiKey === undefined) {
  throw new Error("usage: MARKET_API_KEY=... node fetch_client.mjs BASE_URL CAMPAIGN_ID RETURN_ID...");
}

function integer(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${what} is not a whole number: ${text}`);
  }
  return value;
}

function header(response: Response, name: keyof RateLimit): string {
  const value = response.headers.get(name);
  if (value === null) {
    throw new Error(`the answer has no ${name} header`);
  }
  return value;
}

/** The spec puts the three headers on every answer: a missing or malformed one fails the program. */
function rateLimitOf(response: Response): RateLimit {
  return {
    "X-RateLimit-Resource-Limit": integer(header(response, "X-RateLimit-Resource-Limit"), "the limit"),
    "X-RateLimit-Resource-Remaining": integer(header(response, "X-RateLimit-Resource-Remaining"), "the remainder"),
    "X-RateLimit-Resource-Until": header(response, "X-RateLimit-Resource-Until"),
  };
}

const client = createClient<paths>({ baseUrl, headers: { "Api-Key": apiKey } });
const campaignId = integer(campaign, "the campaign id");

for (const returnId of returnIds.map((text) => integer(text, "a return id"))) {
  const { data, error, response } = await client.POST("/v1/campaigns/{campaignId}/returns/cancel", {
    params: { path: { campaignId } },
    body: { returnId },
  });
  const answer = { returnId, http: response.status, rateLimit: rateLimitOf(response) };
  if (!response.ok || error !== undefined) {
    // Typed as the union of the bodies of every error status the spec lists (400, 401, 403, 420, 500), not
    // narrowed by response.status: the spec gives them all one shape, ApiErrorResponse. An empty error body
    // leaves it undefined, so the status decides, not `error`.
    const first = error?.errors?.[0];
    console.log(JSON.stringify({ ...answer, status: error?.status, code: first?.code, message: first?.message }));
  } else {
    const operation = data.result?.operation;
    const started = operation && { id: operation.id, type: operation.type };
    console.log(JSON.stringify({ ...answer, status: data.status, operation: started }));
  }
}
