from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error_response import ApiErrorResponse
from ...models.cancel_return_request import CancelReturnRequest
from ...models.cancel_return_response import CancelReturnResponse
from ...types import Response


def _get_kwargs(
    campaign_id: int,
    *,
    body: CancelReturnRequest,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/campaigns/{campaign_id}/returns/cancel".format(
            campaign_id=quote(str(campaign_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiErrorResponse | CancelReturnResponse | None:
    if response.status_code == 200:
        response_200 = CancelReturnResponse.from_dict(response.json())

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
) -> Response[ApiErrorResponse | CancelReturnResponse]:
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
    *,
    client: AuthenticatedClient,
    body: CancelReturnRequest,
) -> Response[ApiErrorResponse | CancelReturnResponse]:
    """Cancel a return

     Cancels a return. The method is available for the LaaS model; it is not yet available for
    Market Yandex Go sellers.

    A return can be cancelled only before it is accepted at the pick-up point
    (`"shipmentStatus": "CREATED"`).

    **The return is not cancelled instantly.** The call starts an operation of type
    `RETURN_CANCELLATION`; the cancellation is applied within a few minutes and only if that
    operation completes successfully. A `200` answer therefore does not mean that the return is
    cancelled: check the operation's status with `POST /v1/businesses/{businessId}/operations`
    (`getOperations`).

    **When to use it.** You created a return with 3 items, but the buyer changed their mind and
    decided to return only 2. Cancel the return and create a new one.

    **Access.** With an API-Key token, the token needs one of the accesses
    `inventory-and-order-processing` or `all-methods`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests
    in parallel for one store, is answered with `420`.

    Args:
        campaign_id (int):
        body (CancelReturnRequest): Which return to cancel. Example: {'returnId': 97211}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | CancelReturnResponse]
    """

    kwargs = _get_kwargs(
        campaign_id=campaign_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    campaign_id: int,
    *,
    client: AuthenticatedClient,
    body: CancelReturnRequest,
) -> ApiErrorResponse | CancelReturnResponse | None:
    """Cancel a return

     Cancels a return. The method is available for the LaaS model; it is not yet available for
    Market Yandex Go sellers.

    A return can be cancelled only before it is accepted at the pick-up point
    (`"shipmentStatus": "CREATED"`).

    **The return is not cancelled instantly.** The call starts an operation of type
    `RETURN_CANCELLATION`; the cancellation is applied within a few minutes and only if that
    operation completes successfully. A `200` answer therefore does not mean that the return is
    cancelled: check the operation's status with `POST /v1/businesses/{businessId}/operations`
    (`getOperations`).

    **When to use it.** You created a return with 3 items, but the buyer changed their mind and
    decided to return only 2. Cancel the return and create a new one.

    **Access.** With an API-Key token, the token needs one of the accesses
    `inventory-and-order-processing` or `all-methods`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests
    in parallel for one store, is answered with `420`.

    Args:
        campaign_id (int):
        body (CancelReturnRequest): Which return to cancel. Example: {'returnId': 97211}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | CancelReturnResponse
    """

    return sync_detailed(
        campaign_id=campaign_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    campaign_id: int,
    *,
    client: AuthenticatedClient,
    body: CancelReturnRequest,
) -> Response[ApiErrorResponse | CancelReturnResponse]:
    """Cancel a return

     Cancels a return. The method is available for the LaaS model; it is not yet available for
    Market Yandex Go sellers.

    A return can be cancelled only before it is accepted at the pick-up point
    (`"shipmentStatus": "CREATED"`).

    **The return is not cancelled instantly.** The call starts an operation of type
    `RETURN_CANCELLATION`; the cancellation is applied within a few minutes and only if that
    operation completes successfully. A `200` answer therefore does not mean that the return is
    cancelled: check the operation's status with `POST /v1/businesses/{businessId}/operations`
    (`getOperations`).

    **When to use it.** You created a return with 3 items, but the buyer changed their mind and
    decided to return only 2. Cancel the return and create a new one.

    **Access.** With an API-Key token, the token needs one of the accesses
    `inventory-and-order-processing` or `all-methods`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests
    in parallel for one store, is answered with `420`.

    Args:
        campaign_id (int):
        body (CancelReturnRequest): Which return to cancel. Example: {'returnId': 97211}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | CancelReturnResponse]
    """

    kwargs = _get_kwargs(
        campaign_id=campaign_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    campaign_id: int,
    *,
    client: AuthenticatedClient,
    body: CancelReturnRequest,
) -> ApiErrorResponse | CancelReturnResponse | None:
    """Cancel a return

     Cancels a return. The method is available for the LaaS model; it is not yet available for
    Market Yandex Go sellers.

    A return can be cancelled only before it is accepted at the pick-up point
    (`"shipmentStatus": "CREATED"`).

    **The return is not cancelled instantly.** The call starts an operation of type
    `RETURN_CANCELLATION`; the cancellation is applied within a few minutes and only if that
    operation completes successfully. A `200` answer therefore does not mean that the return is
    cancelled: check the operation's status with `POST /v1/businesses/{businessId}/operations`
    (`getOperations`).

    **When to use it.** You created a return with 3 items, but the buyer changed their mind and
    decided to return only 2. Cancel the return and create a new one.

    **Access.** With an API-Key token, the token needs one of the accesses
    `inventory-and-order-processing` or `all-methods`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests
    in parallel for one store, is answered with `420`.

    Args:
        campaign_id (int):
        body (CancelReturnRequest): Which return to cancel. Example: {'returnId': 97211}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | CancelReturnResponse
    """

    return (
        await asyncio_detailed(
            campaign_id=campaign_id,
            client=client,
            body=body,
        )
    ).parsed
