from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error_response import ApiErrorResponse
from ...models.get_operations_request import GetOperationsRequest
from ...models.get_operations_response import GetOperationsResponse
from ...types import Response


def _get_kwargs(
    business_id: int,
    *,
    body: GetOperationsRequest,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/businesses/{business_id}/operations".format(
            business_id=quote(str(business_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiErrorResponse | GetOperationsResponse | None:
    if response.status_code == 200:
        response_200 = GetOperationsResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ApiErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ApiErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ApiErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 420:
        response_420 = ApiErrorResponse.from_dict(response.json())

        return response_420

    if response.status_code == 500:
        response_500 = ApiErrorResponse.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ApiErrorResponse | GetOperationsResponse]:
    try:
        parsed = _parse_response(client=client, response=response)
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError) as error:
        raise errors.UnexpectedResponse(response.status_code, response.content, response.headers) from error
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=parsed,
    )


def sync_detailed(
    business_id: int,
    *,
    client: AuthenticatedClient,
    body: GetOperationsRequest,
) -> Response[ApiErrorResponse | GetOperationsResponse]:
    """Get the statuses of operations

     Returns the statuses of started operations by their IDs: whether a return cancellation
    started by `cancelReturn` is still in progress, done or failed. Only `DONE` means the return
    is cancelled.

    The business (`businessId`) is the seller's cabinet, not the store: one business may hold
    several stores (campaigns). An operation the Market does not know is left out of
    `operations`.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `settings-management`, `finance-and-accounting`,
    `offers-and-cards-management`, `offers-and-cards-management:read-only`, `pricing`,
    `pricing:read-only`, `inventory-and-order-processing`,
    `inventory-and-order-processing:read-only`, `promotion`, `promotion:read-only`,
    `communication` or `supplies-management:read-only`.

    **Limit:** 1,000 requests per hour per business. Exceeding it, or running more than 4 requests
    in parallel for one business, is answered with `420`.

    Args:
        business_id (int):
        body (GetOperationsRequest): Which operations to report on. Example: {'operationType':
            'RETURN_CANCELLATION', 'operationIds': ['6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | GetOperationsResponse]
    """

    kwargs = _get_kwargs(
        business_id=business_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    business_id: int,
    *,
    client: AuthenticatedClient,
    body: GetOperationsRequest,
) -> ApiErrorResponse | GetOperationsResponse | None:
    """Get the statuses of operations

     Returns the statuses of started operations by their IDs: whether a return cancellation
    started by `cancelReturn` is still in progress, done or failed. Only `DONE` means the return
    is cancelled.

    The business (`businessId`) is the seller's cabinet, not the store: one business may hold
    several stores (campaigns). An operation the Market does not know is left out of
    `operations`.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `settings-management`, `finance-and-accounting`,
    `offers-and-cards-management`, `offers-and-cards-management:read-only`, `pricing`,
    `pricing:read-only`, `inventory-and-order-processing`,
    `inventory-and-order-processing:read-only`, `promotion`, `promotion:read-only`,
    `communication` or `supplies-management:read-only`.

    **Limit:** 1,000 requests per hour per business. Exceeding it, or running more than 4 requests
    in parallel for one business, is answered with `420`.

    Args:
        business_id (int):
        body (GetOperationsRequest): Which operations to report on. Example: {'operationType':
            'RETURN_CANCELLATION', 'operationIds': ['6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | GetOperationsResponse
    """

    return sync_detailed(
        business_id=business_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    business_id: int,
    *,
    client: AuthenticatedClient,
    body: GetOperationsRequest,
) -> Response[ApiErrorResponse | GetOperationsResponse]:
    """Get the statuses of operations

     Returns the statuses of started operations by their IDs: whether a return cancellation
    started by `cancelReturn` is still in progress, done or failed. Only `DONE` means the return
    is cancelled.

    The business (`businessId`) is the seller's cabinet, not the store: one business may hold
    several stores (campaigns). An operation the Market does not know is left out of
    `operations`.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `settings-management`, `finance-and-accounting`,
    `offers-and-cards-management`, `offers-and-cards-management:read-only`, `pricing`,
    `pricing:read-only`, `inventory-and-order-processing`,
    `inventory-and-order-processing:read-only`, `promotion`, `promotion:read-only`,
    `communication` or `supplies-management:read-only`.

    **Limit:** 1,000 requests per hour per business. Exceeding it, or running more than 4 requests
    in parallel for one business, is answered with `420`.

    Args:
        business_id (int):
        body (GetOperationsRequest): Which operations to report on. Example: {'operationType':
            'RETURN_CANCELLATION', 'operationIds': ['6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | GetOperationsResponse]
    """

    kwargs = _get_kwargs(
        business_id=business_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    business_id: int,
    *,
    client: AuthenticatedClient,
    body: GetOperationsRequest,
) -> ApiErrorResponse | GetOperationsResponse | None:
    """Get the statuses of operations

     Returns the statuses of started operations by their IDs: whether a return cancellation
    started by `cancelReturn` is still in progress, done or failed. Only `DONE` means the return
    is cancelled.

    The business (`businessId`) is the seller's cabinet, not the store: one business may hold
    several stores (campaigns). An operation the Market does not know is left out of
    `operations`.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `settings-management`, `finance-and-accounting`,
    `offers-and-cards-management`, `offers-and-cards-management:read-only`, `pricing`,
    `pricing:read-only`, `inventory-and-order-processing`,
    `inventory-and-order-processing:read-only`, `promotion`, `promotion:read-only`,
    `communication` or `supplies-management:read-only`.

    **Limit:** 1,000 requests per hour per business. Exceeding it, or running more than 4 requests
    in parallel for one business, is answered with `420`.

    Args:
        business_id (int):
        body (GetOperationsRequest): Which operations to report on. Example: {'operationType':
            'RETURN_CANCELLATION', 'operationIds': ['6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | GetOperationsResponse
    """

    return (
        await asyncio_detailed(
            business_id=business_id,
            client=client,
            body=body,
        )
    ).parsed
