from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.recipient_type import RecipientType
from ..models.refund_status_type import RefundStatusType
from ..models.return_shipment_status_type import ReturnShipmentStatusType
from ..models.return_type import ReturnType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.currency_value_dto import CurrencyValueDTO
    from ..models.logistic_pickup_point_dto import LogisticPickupPointDTO
    from ..models.return_item_dto import ReturnItemDTO


T = TypeVar("T", bound="ReturnDTO")


@_attrs_define
class ReturnDTO:
    """A return, or an unredeemed order (`returnType`), of an order.

    `logisticPickupPoint`, `shipmentRecipientType` and `shipmentStatus` may be missing from a return
    with fast refund for cheap defects, where the buyer keeps the item (`fastReturn=true`), and from a
    business order's return whose refund status is `STARTED_BY_USER` or `WAITING_FOR_DECISION`, or
    that was cancelled before the item was handed over.

    `refundStatus` is meaningful only for `returnType=RETURN`.

        Example:
            {'id': 97211, 'orderId': 46150531, 'creationDate': '2026-11-26T10:15:00+03:00', 'updateDate':
                '2026-11-26T10:15:00+03:00', 'refundStatus': 'STARTED_BY_USER', 'shipmentRecipientType': 'SHOP',
                'shipmentStatus': 'CREATED', 'items': [{'shopSku': 'KETTLE-17L-WHITE', 'count': 1}], 'returnType': 'RETURN',
                'fastReturn': False}

        Attributes:
            id (int): The ID of the return or unredeemed order.
            order_id (int): The order's ID.
            items (list[ReturnItemDTO]): The items returned.
            return_type (ReturnType): What it is:

                * `UNREDEEMED` — an unredeemed order (the buyer did not collect it).
                * `RETURN` — a return.
                 Example: RETURN.
            creation_date (datetime.datetime | Unset): When it was created, ISO 8601 with the offset from UTC. Example:
                2026-11-26T10:15:00+03:00.
            update_date (datetime.datetime | Unset): When it was last updated (a change of status included), ISO 8601 with
                the offset from UTC.
                 Example: 2026-11-26T10:21:37+03:00.
            refund_status (RefundStatusType | Unset): Where the refund of the money stands:

                * `STARTED_BY_USER` — created by the buyer in their account.
                * `REFUND_IN_PROGRESS` — waiting for a decision on the refund.
                * `REFUNDED` — the money was refunded.
                * `FAILED` — the money cannot be refunded to the buyer.
                * `WAITING_FOR_DECISION` — waiting for a decision (DBS).
                * `DECISION_MADE` — a decision was made (DBS).
                * `REFUNDED_WITH_BONUSES` — refunded in Plus points or with a promo code.
                * `REFUNDED_BY_SHOP` — the store refunded the money itself.
                * `CANCELLED` — the return was cancelled.
                * `REJECTED` — rejected by moderation or at the pick-up point.
                * `COMPLETE_WITHOUT_REFUND` — no refund is needed.
                * `PREMODERATION_DISPUTE` — a dispute is open (FBY, FBS and Express).
                * `PREMODERATION_DECISION_WAITING` — waiting for a decision (FBY, FBS and Express).
                * `PREMODERATION_DECISION_MADE` — a decision was made (FBY, FBS and Express).
                * `PREMODERATION_SELECT_DELIVERY` — the buyer is choosing how to send it (FBY, FBS and Express).
                * `UNKNOWN` — an unknown status: contact support.

                The Market may add statuses: clients should accept values not listed here.
                 Example: STARTED_BY_USER.
            logistic_pickup_point (LogisticPickupPointDTO | Unset): Where the store collects the return. Example: {'id':
                10001563, 'name': 'Pick-up point on Streletskaya', 'address': {'country': 'Russia', 'city': 'Moscow', 'street':
                'Streletskaya street', 'house': '9k2', 'postcode': '123518'}, 'type': 'PICKUP_POINT', 'logisticPartnerId':
                1005471}.
            pickup_till_date (datetime.datetime | Unset): Until when the store can collect the items, ISO 8601 with the
                offset from UTC; only in the
                shipment status `READY_FOR_PICKUP`.
                 Example: 2026-12-03T21:00:00+03:00.
            shipment_recipient_type (RecipientType | Unset): How the buyer sends the items back:

                * `SHOP` — to the store's return point.
                * `DELIVERY_SERVICE` — by courier.
                * `POST` — by post.
                 Example: SHOP.
            shipment_status (ReturnShipmentStatusType | Unset): Where the return (or unredeemed order) is on its way back:

                * `CREATED` — created by the buyer; only now can it be cancelled.
                * `RECEIVED` — accepted from the buyer, ready to be sent.
                * `IN_TRANSIT` — on its way.
                * `READY_FOR_PICKUP` — ready to be collected by the store.
                * `PICKED` — collected by the store.
                * `LOST` — lost in transit.
                * `EXPIRED` — the buyer did not bring the item in time (the return is cancelled).
                * `CANCELLED` — cancelled.
                * `FULFILMENT_RECEIVED` — received at a Market warehouse.
                * `PREPARED_FOR_UTILIZATION` — queued for disposal.
                * `NOT_IN_DEMAND` — not collected from the post office.
                * `UTILIZED` — disposed of.
                * `READY_FOR_EXPROPRIATION` — the items are being checked before resale.
                * `RECEIVED_FOR_EXPROPRIATION` — the items were taken for resale.
                * `UNKNOWN` — an unknown status: contact support.

                The Market may add statuses: clients should accept values not listed here.
                 Example: CREATED.
            refund_amount (int | Unset): The refund in kopecks. Deprecated; use `amount`.
            amount (CurrencyValueDTO | Unset): An amount of money and its currency. Example: {'value': 1490, 'currencyId':
                'RUR'}.
            fast_return (bool | Unset): Whether the fast refund for cheap defects applies; meaningful only for
                `returnType=RETURN`.
    """

    id: int
    order_id: int
    items: list[ReturnItemDTO]
    return_type: ReturnType
    creation_date: datetime.datetime | Unset = UNSET
    update_date: datetime.datetime | Unset = UNSET
    refund_status: RefundStatusType | Unset = UNSET
    logistic_pickup_point: LogisticPickupPointDTO | Unset = UNSET
    pickup_till_date: datetime.datetime | Unset = UNSET
    shipment_recipient_type: RecipientType | Unset = UNSET
    shipment_status: ReturnShipmentStatusType | Unset = UNSET
    refund_amount: int | Unset = UNSET
    amount: CurrencyValueDTO | Unset = UNSET
    fast_return: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        order_id = self.order_id

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        return_type = self.return_type.value

        creation_date: str | Unset = UNSET
        if not isinstance(self.creation_date, Unset):
            creation_date = self.creation_date.isoformat()

        update_date: str | Unset = UNSET
        if not isinstance(self.update_date, Unset):
            update_date = self.update_date.isoformat()

        refund_status: str | Unset = UNSET
        if not isinstance(self.refund_status, Unset):
            refund_status = self.refund_status.value

        logistic_pickup_point: dict[str, Any] | Unset = UNSET
        if not isinstance(self.logistic_pickup_point, Unset):
            logistic_pickup_point = self.logistic_pickup_point.to_dict()

        pickup_till_date: str | Unset = UNSET
        if not isinstance(self.pickup_till_date, Unset):
            pickup_till_date = self.pickup_till_date.isoformat()

        shipment_recipient_type: str | Unset = UNSET
        if not isinstance(self.shipment_recipient_type, Unset):
            shipment_recipient_type = self.shipment_recipient_type.value

        shipment_status: str | Unset = UNSET
        if not isinstance(self.shipment_status, Unset):
            shipment_status = self.shipment_status.value

        refund_amount = self.refund_amount

        amount: dict[str, Any] | Unset = UNSET
        if not isinstance(self.amount, Unset):
            amount = self.amount.to_dict()

        fast_return = self.fast_return

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "orderId": order_id,
                "items": items,
                "returnType": return_type,
            }
        )
        if creation_date is not UNSET:
            field_dict["creationDate"] = creation_date
        if update_date is not UNSET:
            field_dict["updateDate"] = update_date
        if refund_status is not UNSET:
            field_dict["refundStatus"] = refund_status
        if logistic_pickup_point is not UNSET:
            field_dict["logisticPickupPoint"] = logistic_pickup_point
        if pickup_till_date is not UNSET:
            field_dict["pickupTillDate"] = pickup_till_date
        if shipment_recipient_type is not UNSET:
            field_dict["shipmentRecipientType"] = shipment_recipient_type
        if shipment_status is not UNSET:
            field_dict["shipmentStatus"] = shipment_status
        if refund_amount is not UNSET:
            field_dict["refundAmount"] = refund_amount
        if amount is not UNSET:
            field_dict["amount"] = amount
        if fast_return is not UNSET:
            field_dict["fastReturn"] = fast_return

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.currency_value_dto import CurrencyValueDTO  # noqa: PLC0415
        from ..models.logistic_pickup_point_dto import LogisticPickupPointDTO  # noqa: PLC0415
        from ..models.return_item_dto import ReturnItemDTO  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        order_id = d.pop("orderId")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = ReturnItemDTO.from_dict(items_item_data)

            items.append(items_item)

        return_type = ReturnType(d.pop("returnType"))

        _creation_date = d.pop("creationDate", UNSET)
        creation_date: datetime.datetime | Unset
        if isinstance(_creation_date, Unset):
            creation_date = UNSET
        else:
            creation_date = datetime.datetime.fromisoformat(_creation_date)

        _update_date = d.pop("updateDate", UNSET)
        update_date: datetime.datetime | Unset
        if isinstance(_update_date, Unset):
            update_date = UNSET
        else:
            update_date = datetime.datetime.fromisoformat(_update_date)

        _refund_status = d.pop("refundStatus", UNSET)
        refund_status: RefundStatusType | Unset
        if isinstance(_refund_status, Unset):
            refund_status = UNSET
        else:
            refund_status = RefundStatusType(_refund_status)

        _logistic_pickup_point = d.pop("logisticPickupPoint", UNSET)
        logistic_pickup_point: LogisticPickupPointDTO | Unset
        if isinstance(_logistic_pickup_point, Unset):
            logistic_pickup_point = UNSET
        else:
            logistic_pickup_point = LogisticPickupPointDTO.from_dict(_logistic_pickup_point)

        _pickup_till_date = d.pop("pickupTillDate", UNSET)
        pickup_till_date: datetime.datetime | Unset
        if isinstance(_pickup_till_date, Unset):
            pickup_till_date = UNSET
        else:
            pickup_till_date = datetime.datetime.fromisoformat(_pickup_till_date)

        _shipment_recipient_type = d.pop("shipmentRecipientType", UNSET)
        shipment_recipient_type: RecipientType | Unset
        if isinstance(_shipment_recipient_type, Unset):
            shipment_recipient_type = UNSET
        else:
            shipment_recipient_type = RecipientType(_shipment_recipient_type)

        _shipment_status = d.pop("shipmentStatus", UNSET)
        shipment_status: ReturnShipmentStatusType | Unset
        if isinstance(_shipment_status, Unset):
            shipment_status = UNSET
        else:
            shipment_status = ReturnShipmentStatusType(_shipment_status)

        refund_amount = d.pop("refundAmount", UNSET)

        _amount = d.pop("amount", UNSET)
        amount: CurrencyValueDTO | Unset
        if isinstance(_amount, Unset):
            amount = UNSET
        else:
            amount = CurrencyValueDTO.from_dict(_amount)

        fast_return = d.pop("fastReturn", UNSET)

        return_dto = cls(
            id=id,
            order_id=order_id,
            items=items,
            return_type=return_type,
            creation_date=creation_date,
            update_date=update_date,
            refund_status=refund_status,
            logistic_pickup_point=logistic_pickup_point,
            pickup_till_date=pickup_till_date,
            shipment_recipient_type=shipment_recipient_type,
            shipment_status=shipment_status,
            refund_amount=refund_amount,
            amount=amount,
            fast_return=fast_return,
        )

        return_dto.additional_properties = d
        return return_dto

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
