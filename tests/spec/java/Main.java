// Run by tests/spec/test_java_client.py: the client openapi-generator's java generator (library "native") makes
// from openapi.yaml, in one JVM against the fake Market.
// Usage: java Main BASE_URL BUSINESS_ID OPERATION_ID,... CAMPAIGN_ID RETURN_ID...; the key comes from
// MARKET_API_KEY, never argv. Asks getOperations about the operations, then cancels the returns in order, and
// prints one JSON line per answer, every field read through the generated classes.
import java.net.http.HttpHeaders;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import market.client.ApiClient;
import market.client.ApiException;
import market.client.ApiResponse;
import market.client.api.OperationsApi;
import market.client.api.ReturnsApi;
import market.client.model.ApiClientDataErrorResponse;
import market.client.model.ApiErrorDTO;
import market.client.model.ApiErrorResponse;
import market.client.model.ApiLimitErrorResponse;
import market.client.model.ApiResponseStatusType;
import market.client.model.CancelReturnRequest;
import market.client.model.CancelReturnResponse;
import market.client.model.GetOperationsRequest;
import market.client.model.GetOperationsResponse;
import market.client.model.OperationDTO;
import market.client.model.OperationResultDTO;
import market.client.model.OperationType;

public final class Main {
  private static final List<String> RATE_LIMIT_HEADERS = List.of(
      "X-RateLimit-Resource-Limit", "X-RateLimit-Resource-Remaining", "X-RateLimit-Resource-Until");

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      throw new IllegalArgumentException(
          "usage: MARKET_API_KEY=... java Main BASE_URL BUSINESS_ID OPERATION_ID,... CAMPAIGN_ID RETURN_ID...");
    }
    String apiKey = System.getenv("MARKET_API_KEY");
    if (apiKey == null) {
      throw new IllegalStateException("MARKET_API_KEY is not set");
    }
    ApiClient client = new ApiClient();
    client.updateBaseUri(args[0]);
    // The native library generates no authentication: the key goes on every request through the interceptor.
    client.setRequestInterceptor(request -> request.header("Api-Key", apiKey));
    ObjectMapper mapper = client.getObjectMapper();

    long businessId = Long.parseLong(args[1]);
    GetOperationsRequest query = new GetOperationsRequest()
        .operationType(OperationType.RETURN_CANCELLATION)
        .operationIds(new LinkedHashSet<>(Arrays.asList(args[2].split(","))));
    ApiResponse<GetOperationsResponse> found = new OperationsApi(client).getOperationsWithHttpInfo(businessId, query);
    ObjectNode operations = answer(mapper, "getOperations", found.getStatusCode(), headers(found.getHeaders()));
    operations.put("status", found.getData().getStatus().name());
    ArrayNode listed = operations.putArray("operations");
    for (OperationResultDTO operation : found.getData().getResult().getOperations()) {
      // An unknown value decodes to UNKNOWN_DEFAULT_OPEN_API (enumUnknownDefaultCase) instead of failing the call.
      listed.addObject()
          .put("id", operation.getId())
          .put("type", operation.getType().name())
          .put("status", operation.getStatus().name());
    }
    System.out.println(mapper.writeValueAsString(operations));

    ReturnsApi returns = new ReturnsApi(client);
    long campaignId = Long.parseLong(args[3]);
    for (String returnId : Arrays.copyOfRange(args, 4, args.length)) {
      CancelReturnRequest cancel = new CancelReturnRequest().returnId(Long.parseLong(returnId));
      ObjectNode line;
      try {
        ApiResponse<CancelReturnResponse> started = returns.cancelReturnWithHttpInfo(campaignId, cancel);
        line = answer(mapper, "cancelReturn", started.getStatusCode(), headers(started.getHeaders()));
        line.put("status", started.getData().getStatus().name());
        OperationDTO operation = started.getData().getResult().getOperation();
        line.putObject("operation").put("id", operation.getId()).put("type", operation.getType().name());
      } catch (ApiException e) {
        if (e.getCode() == 0) {
          throw e; // no answer at all (a connection error): nothing for the test to read
        }
        // Any status but 2xx: the code, the headers and the raw body, which the generated code does not parse.
        line = answer(mapper, "cancelReturn", e.getCode(), e.getResponseHeaders());
        line.put("exception", e.getMessage()).put("body", e.getResponseBody());
        error(mapper, e.getCode(), e.getResponseBody(), line.putObject("error"));
      }
      line.put("returnId", Long.parseLong(returnId));
      System.out.println(mapper.writeValueAsString(line));
    }
  }

  private static HttpHeaders headers(Map<String, List<String>> map) {
    return HttpHeaders.of(map, (name, value) -> true);
  }

  private static ObjectNode answer(ObjectMapper mapper, String call, int http, HttpHeaders headers) {
    ObjectNode line = mapper.createObjectNode().put("call", call).put("http", http);
    ObjectNode rateLimit = line.putObject("rateLimit");
    for (String name : RATE_LIMIT_HEADERS) {
      rateLimit.put(name, headers.firstValue(name).orElse(null));
    }
    return line;
  }

  /** The error body parsed with the client's ObjectMapper into the model the spec gives the status. */
  private static void error(ObjectMapper mapper, int http, String body, ObjectNode into) throws Exception {
    ParsedError parsed;
    if (http == 400) {
      ApiClientDataErrorResponse model = mapper.readValue(body, ApiClientDataErrorResponse.class);
      parsed = new ParsedError(model, model.getStatus(), model.getErrors());
    } else if (http == 420) {
      ApiLimitErrorResponse model = mapper.readValue(body, ApiLimitErrorResponse.class);
      parsed = new ParsedError(model, model.getStatus(), model.getErrors());
    } else {
      ApiErrorResponse model = mapper.readValue(body, ApiErrorResponse.class);
      parsed = new ParsedError(model, model.getStatus(), model.getErrors());
    }
    ApiErrorDTO first = parsed.errors().get(0);
    into.put("model", parsed.model().getClass().getSimpleName())
        .put("status", parsed.status().name())
        .put("code", first.getCode())
        .put("message", first.getMessage());
  }

  /** The generated error models share a shape but no type: the spec's allOf is flattened into each. */
  private record ParsedError(Object model, ApiResponseStatusType status, List<ApiErrorDTO> errors) {}
}
