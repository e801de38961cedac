import datetime
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_error_response import ApiErrorResponse
from ...models.get_returns_response import GetReturnsResponse
from ...models.refund_status_type import RefundStatusType
from ...models.return_shipment_status_type import ReturnShipmentStatusType
from ...models.return_type import ReturnType
from ...types import UNSET, Response, Unset


def _get_kwargs(
    campaign_id: int,
    *,
    page_token: str | Unset = UNSET,
    limit: int | Unset = 50,
    order_ids: list[int] | Unset = UNSET,
    statuses: list[RefundStatusType] | Unset = UNSET,
    shipment_statuses: list[ReturnShipmentStatusType] | Unset = UNSET,
    type_: ReturnType | Unset = UNSET,
    fromDate: datetime.date | Unset = UNSET,
    toDate: datetime.date | Unset = UNSET,
    from_date: datetime.date | Unset = UNSET,
    to_date: datetime.date | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["pageToken"] = page_token

    params["limit"] = limit

    json_order_ids: list[int] | Unset = UNSET
    if not isinstance(order_ids, Unset):
        json_order_ids = order_ids

    params["orderIds"] = json_order_ids

    json_statuses: list[str] | Unset = UNSET
    if not isinstance(statuses, Unset):
        json_statuses = []
        for statuses_item_data in statuses:
            statuses_item = statuses_item_data.value
            json_statuses.append(statuses_item)

    params["statuses"] = json_statuses

    json_shipment_statuses: list[str] | Unset = UNSET
    if not isinstance(shipment_statuses, Unset):
        json_shipment_statuses = []
        for shipment_statuses_item_data in shipment_statuses:
            shipment_statuses_item = shipment_statuses_item_data.value
            json_shipment_statuses.append(shipment_statuses_item)

    params["shipmentStatuses"] = json_shipment_statuses

    json_type_: str | Unset = UNSET
    if not isinstance(type_, Unset):
        json_type_ = type_.value

    params["type"] = json_type_

    json_fromDate: str | Unset = UNSET
    if not isinstance(fromDate, Unset):
        json_fromDate = fromDate.isoformat()
    params["fromDate"] = json_fromDate

    json_toDate: str | Unset = UNSET
    if not isinstance(toDate, Unset):
        json_toDate = toDate.isoformat()
    params["toDate"] = json_toDate

    json_from_date: str | Unset = UNSET
    if not isinstance(from_date, Unset):
        json_from_date = from_date.isoformat()
    params["from_date"] = json_from_date

    json_to_date: str | Unset = UNSET
    if not isinstance(to_date, Unset):
        json_to_date = to_date.isoformat()
    params["to_date"] = json_to_date

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/campaigns/{campaign_id}/returns".format(
            campaign_id=quote(str(campaign_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiErrorResponse | GetReturnsResponse | None:
    if response.status_code == 200:
        response_200 = GetReturnsResponse.from_dict(response.json())

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
) -> Response[ApiErrorResponse | GetReturnsResponse]:
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
    page_token: str | Unset = UNSET,
    limit: int | Unset = 50,
    order_ids: list[int] | Unset = UNSET,
    statuses: list[RefundStatusType] | Unset = UNSET,
    shipment_statuses: list[ReturnShipmentStatusType] | Unset = UNSET,
    type_: ReturnType | Unset = UNSET,
    fromDate: datetime.date | Unset = UNSET,
    toDate: datetime.date | Unset = UNSET,
    from_date: datetime.date | Unset = UNSET,
    to_date: datetime.date | Unset = UNSET,
) -> Response[ApiErrorResponse | GetReturnsResponse]:
    """List returns and unredeemed orders

     Returns a store's returns and unredeemed orders, a page at a time, optionally filtered by
    order, refund status, shipment status, type and the date they were last updated. To read one
    return, use `GET /v2/campaigns/{campaignId}/orders/{orderId}/returns/{returnId}` (`getReturn`).

    **Pages.** The first page comes without `pageToken`; while an answer has
    `paging.nextPageToken`, pass it as `pageToken` for the next page, with the same filters.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        page_token (str | Unset):
        limit (int | Unset):  Default: 50.
        order_ids (list[int] | Unset):
        statuses (list[RefundStatusType] | Unset):
        shipment_statuses (list[ReturnShipmentStatusType] | Unset):
        type_ (ReturnType | Unset): What it is:

            * `UNREDEEMED` — an unredeemed order (the buyer did not collect it).
            * `RETURN` — a return.
             Example: RETURN.
        fromDate (datetime.date | Unset):
        toDate (datetime.date | Unset):
        from_date (datetime.date | Unset):
        to_date (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | GetReturnsResponse]
    """

    kwargs = _get_kwargs(
        campaign_id=campaign_id,
        page_token=page_token,
        limit=limit,
        order_ids=order_ids,
        statuses=statuses,
        shipment_statuses=shipment_statuses,
        type_=type_,
        fromDate=fromDate,
        toDate=toDate,
        from_date=from_date,
        to_date=to_date,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    campaign_id: int,
    *,
    client: AuthenticatedClient,
    page_token: str | Unset = UNSET,
    limit: int | Unset = 50,
    order_ids: list[int] | Unset = UNSET,
    statuses: list[RefundStatusType] | Unset = UNSET,
    shipment_statuses: list[ReturnShipmentStatusType] | Unset = UNSET,
    type_: ReturnType | Unset = UNSET,
    fromDate: datetime.date | Unset = UNSET,
    toDate: datetime.date | Unset = UNSET,
    from_date: datetime.date | Unset = UNSET,
    to_date: datetime.date | Unset = UNSET,
) -> ApiErrorResponse | GetReturnsResponse | None:
    """List returns and unredeemed orders

     Returns a store's returns and unredeemed orders, a page at a time, optionally filtered by
    order, refund status, shipment status, type and the date they were last updated. To read one
    return, use `GET /v2/campaigns/{campaignId}/orders/{orderId}/returns/{returnId}` (`getReturn`).

    **Pages.** The first page comes without `pageToken`; while an answer has
    `paging.nextPageToken`, pass it as `pageToken` for the next page, with the same filters.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        page_token (str | Unset):
        limit (int | Unset):  Default: 50.
        order_ids (list[int] | Unset):
        statuses (list[RefundStatusType] | Unset):
        shipment_statuses (list[ReturnShipmentStatusType] | Unset):
        type_ (ReturnType | Unset): What it is:

            * `UNREDEEMED` — an unredeemed order (the buyer did not collect it).
            * `RETURN` — a return.
             Example: RETURN.
        fromDate (datetime.date | Unset):
        toDate (datetime.date | Unset):
        from_date (datetime.date | Unset):
        to_date (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | GetReturnsResponse
    """

    return sync_detailed(
        campaign_id=campaign_id,
        client=client,
        page_token=page_token,
        limit=limit,
        order_ids=order_ids,
        statuses=statuses,
        shipment_statuses=shipment_statuses,
        type_=type_,
        fromDate=fromDate,
        toDate=toDate,
        from_date=from_date,
        to_date=to_date,
    ).parsed


async def asyncio_detailed(
    campaign_id: int,
    *,
    client: AuthenticatedClient,
    page_token: str | Unset = UNSET,
    limit: int | Unset = 50,
    order_ids: list[int] | Unset = UNSET,
    statuses: list[RefundStatusType] | Unset = UNSET,
    shipment_statuses: list[ReturnShipmentStatusType] | Unset = UNSET,
    type_: ReturnType | Unset = UNSET,
    fromDate: datetime.date | Unset = UNSET,
    toDate: datetime.date | Unset = UNSET,
    from_date: datetime.date | Unset = UNSET,
    to_date: datetime.date | Unset = UNSET,
) -> Response[ApiErrorResponse | GetReturnsResponse]:
    """List returns and unredeemed orders

     Returns a store's returns and unredeemed orders, a page at a time, optionally filtered by
    order, refund status, shipment status, type and the date they were last updated. To read one
    return, use `GET /v2/campaigns/{campaignId}/orders/{orderId}/returns/{returnId}` (`getReturn`).

    **Pages.** The first page comes without `pageToken`; while an answer has
    `paging.nextPageToken`, pass it as `pageToken` for the next page, with the same filters.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        page_token (str | Unset):
        limit (int | Unset):  Default: 50.
        order_ids (list[int] | Unset):
        statuses (list[RefundStatusType] | Unset):
        shipment_statuses (list[ReturnShipmentStatusType] | Unset):
        type_ (ReturnType | Unset): What it is:

            * `UNREDEEMED` — an unredeemed order (the buyer did not collect it).
            * `RETURN` — a return.
             Example: RETURN.
        fromDate (datetime.date | Unset):
        toDate (datetime.date | Unset):
        from_date (datetime.date | Unset):
        to_date (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiErrorResponse | GetReturnsResponse]
    """

    kwargs = _get_kwargs(
        campaign_id=campaign_id,
        page_token=page_token,
        limit=limit,
        order_ids=order_ids,
        statuses=statuses,
        shipment_statuses=shipment_statuses,
        type_=type_,
        fromDate=fromDate,
        toDate=toDate,
        from_date=from_date,
        to_date=to_date,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    campaign_id: int,
    *,
    client: AuthenticatedClient,
    page_token: str | Unset = UNSET,
    limit: int | Unset = 50,
    order_ids: list[int] | Unset = UNSET,
    statuses: list[RefundStatusType] | Unset = UNSET,
    shipment_statuses: list[ReturnShipmentStatusType] | Unset = UNSET,
    type_: ReturnType | Unset = UNSET,
    fromDate: datetime.date | Unset = UNSET,
    toDate: datetime.date | Unset = UNSET,
    from_date: datetime.date | Unset = UNSET,
    to_date: datetime.date | Unset = UNSET,
) -> ApiErrorResponse | GetReturnsResponse | None:
    """List returns and unredeemed orders

     Returns a store's returns and unredeemed orders, a page at a time, optionally filtered by
    order, refund status, shipment status, type and the date they were last updated. To read one
    return, use `GET /v2/campaigns/{campaignId}/orders/{orderId}/returns/{returnId}` (`getReturn`).

    **Pages.** The first page comes without `pageToken`; while an answer has
    `paging.nextPageToken`, pass it as `pageToken` for the next page, with the same filters.

    **Access.** With an API-Key token, the token needs one of the accesses `all-methods`,
    `all-methods:read-only`, `inventory-and-order-processing` or
    `inventory-and-order-processing:read-only`.

    **Limit:** 5,000 requests per hour per store. Exceeding it, or running more than 4 requests in
    parallel for one store (counted across every `/campaigns/{campaignId}/...` method), is answered
    with `420`.

    Args:
        campaign_id (int):
        page_token (str | Unset):
        limit (int | Unset):  Default: 50.
        order_ids (list[int] | Unset):
        statuses (list[RefundStatusType] | Unset):
        shipment_statuses (list[ReturnShipmentStatusType] | Unset):
        type_ (ReturnType | Unset): What it is:

            * `UNREDEEMED` — an unredeemed order (the buyer did not collect it).
            * `RETURN` — a return.
             Example: RETURN.
        fromDate (datetime.date | Unset):
        toDate (datetime.date | Unset):
        from_date (datetime.date | Unset):
        to_date (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiErrorResponse | GetReturnsResponse
    """

    return (
        await asyncio_detailed(
            campaign_id=campaign_id,
            client=client,
            page_token=page_token,
            limit=limit,
            order_ids=order_ids,
            statuses=statuses,
            shipment_statuses=shipment_statuses,
            type_=type_,
            fromDate=fromDate,
            toDate=toDate,
            from_date=from_date,
            to_date=to_date,
        )
    ).parsed
