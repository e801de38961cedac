from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error_response import ApiErrorResponse
from ...models.get_return_response import GetReturnResponse
from ...types import Response


def _get_kwargs(
    campaign_id: int,
    order_id: int,
    return_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/campaigns/{campaign_id}/orders/{order_id}/returns/{return_id}".format(
            campaign_id=quote(str(campaign_id), safe=""),
            order_id=quote(str(order_id), safe=""),
            return_id=quote(str(return_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiErrorResponse | GetReturnResponse | None:
    if response.status_code == 200:
        response_200 = GetReturnResponse.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = ApiErrorResponse.from_dict(response.json())

        return response_404

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
) -> Response[ApiErrorResponse | GetReturnResponse]:
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
    campaign_id: int,
    order_id: int,
    return_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[ApiErrorResponse | GetReturnResponse]:
    """Get a return or an unredeemed order

     Returns the Market's record of one return (or unredeemed order) of an order: its shipment
    status, refund status, items and when it was last updated.

    **Why read it after a cancellation.** A return is cancelled when its `shipmentStatus` is
    `CANCELLED`. One that is still `CREATED` a few minutes after a cancellation was started was not
    cancelled; one in any other status can no longer be cancelled.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 7,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        order_id (int):
        return_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | GetReturnResponse]
    """

    kwargs = _get_kwargs(
        campaign_id=campaign_id,
        order_id=order_id,
        return_id=return_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    campaign_id: int,
    order_id: int,
    return_id: int,
    *,
    client: AuthenticatedClient,
) -> ApiErrorResponse | GetReturnResponse | None:
    """Get a return or an unredeemed order

     Returns the Market's record of one return (or unredeemed order) of an order: its shipment
    status, refund status, items and when it was last updated.

    **Why read it after a cancellation.** A return is cancelled when its `shipmentStatus` is
    `CANCELLED`. One that is still `CREATED` a few minutes after a cancellation was started was not
    cancelled; one in any other status can no longer be cancelled.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 7,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        order_id (int):
        return_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | GetReturnResponse
    """

    return sync_detailed(
        campaign_id=campaign_id,
        order_id=order_id,
        return_id=return_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    campaign_id: int,
    order_id: int,
    return_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[ApiErrorResponse | GetReturnResponse]:
    """Get a return or an unredeemed order

     Returns the Market's record of one return (or unredeemed order) of an order: its shipment
    status, refund status, items and when it was last updated.

    **Why read it after a cancellation.** A return is cancelled when its `shipmentStatus` is
    `CANCELLED`. One that is still `CREATED` a few minutes after a cancellation was started was not
    cancelled; one in any other status can no longer be cancelled.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 7,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        order_id (int):
        return_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | GetReturnResponse]
    """

    kwargs = _get_kwargs(
        campaign_id=campaign_id,
        order_id=order_id,
        return_id=return_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    campaign_id: int,
    order_id: int,
    return_id: int,
    *,
    client: AuthenticatedClient,
) -> ApiErrorResponse | GetReturnResponse | None:
    """Get a return or an unredeemed order

     Returns the Market's record of one return (or unredeemed order) of an order: its shipment
    status, refund status, items and when it was last updated.

    **Why read it after a cancellation.** A return is cancelled when its `shipmentStatus` is
    `CANCELLED`. One that is still `CREATED` a few minutes after a cancellation was started was not
    cancelled; one in any other status can no longer be cancelled.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 7,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        order_id (int):
        return_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | GetReturnResponse
    """

    return (
        await asyncio_detailed(
            campaign_id=campaign_id,
            order_id=order_id,
            return_id=return_id,
            client=client,
        )
    ).parsed
