from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.api_response_status_type import ApiResponseStatusType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.return_dto import ReturnDTO


T = TypeVar("T", bound="GetReturnResponse")


@_attrs_define
class GetReturnResponse:
    """One return's record.

    Example:
        {'status': 'OK', 'result': {'id': 97211, 'orderId': 46150531, 'updateDate': '2026-11-26T10:21:37+03:00',
            'shipmentStatus': 'CREATED', 'items': [{'shopSku': 'KETTLE-17L-WHITE', 'count': 1}], 'returnType': 'RETURN'}}

    Attributes:
        status (ApiResponseStatusType): The type of the answer:

            * `OK` — there are no errors.
            * `ERROR` — an error occurred while processing the request.
             Example: OK.
        result (ReturnDTO | Unset): A return, or an unredeemed order (`returnType`), of an order.

            `logisticPickupPoint`, `shipmentRecipientType` and `shipmentStatus` may be missing from a return
            with fast refund for cheap defects, where the buyer keeps the item (`fastReturn=true`), and from a
            business order's return whose refund status is `STARTED_BY_USER` or `WAITING_FOR_DECISION`, or
            that was cancelled before the item was handed over.

            `refundStatus` is meaningful only for `returnType=RETURN`.
             Example: {'id': 97211, 'orderId': 46150531, 'creationDate': '2026-11-26T10:15:00+03:00', 'updateDate':
            '2026-11-26T10:15:00+03:00', 'refundStatus': 'STARTED_BY_USER', 'shipmentRecipientType': 'SHOP',
            'shipmentStatus': 'CREATED', 'items': [{'shopSku': 'KETTLE-17L-WHITE', 'count': 1}], 'returnType': 'RETURN',
            'fastReturn': False}.
    """

    status: ApiResponseStatusType
    result: ReturnDTO | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        result: dict[str, Any] | Unset = UNSET
        if not isinstance(self.result, Unset):
            result = self.result.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
            }
        )
        if result is not UNSET:
            field_dict["result"] = result

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.return_dto import ReturnDTO  # noqa: PLC0415

        d = dict(src_dict)
        status = ApiResponseStatusType(d.pop("status"))

        _result = d.pop("result", UNSET)
        result: ReturnDTO | Unset
        if isinstance(_result, Unset):
            result = UNSET
        else:
            result = ReturnDTO.from_dict(_result)

        get_return_response = cls(
            status=status,
            result=result,
        )

        get_return_response.additional_properties = d
        return get_return_response

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
