from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.operation_type import OperationType

T = TypeVar("T", bound="OperationDTO")


@_attrs_define
class OperationDTO:
    """The started operation; its outcome comes from `getOperations`.

    Example:
        {'id': '6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13', 'type': 'RETURN_CANCELLATION'}

    Attributes:
        id (str): The operation's ID. Example: 6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13.
        type_ (OperationType): The operation's type:

            * `ORDER_RECIPIENT_UPDATE` — changing the recipient's data.
            * `ORDER_DELIVERY_INTERVAL_UPDATE` — changing the delivery date interval.
            * `ORDER_STATUS_UPDATE` — updating the order's status to cancel it.
            * `RETURN_CANCELLATION` — cancelling a return.

            The Market adds types over time: clients should accept values not listed here.
             Example: RETURN_CANCELLATION.
    """

    id: str
    type_: OperationType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        type_ = OperationType(d.pop("type"))

        operation_dto = cls(
            id=id,
            type_=type_,
        )

        operation_dto.additional_properties = d
        return operation_dto

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
