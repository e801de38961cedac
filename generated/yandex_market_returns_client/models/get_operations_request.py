from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.operation_type import OperationType

T = TypeVar("T", bound="GetOperationsRequest")


@_attrs_define
class GetOperationsRequest:
    """Which operations to report on.

    Example:
        {'operationType': 'RETURN_CANCELLATION', 'operationIds': ['6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13']}

    Attributes:
        operation_type (OperationType): The operation's type:

            * `ORDER_RECIPIENT_UPDATE` — changing the recipient's data.
            * `ORDER_DELIVERY_INTERVAL_UPDATE` — changing the delivery date interval.
            * `ORDER_STATUS_UPDATE` — updating the order's status to cancel it.
            * `RETURN_CANCELLATION` — cancelling a return.

            The Market adds types over time: clients should accept values not listed here.
             Example: RETURN_CANCELLATION.
        operation_ids (list[str]): The operations' IDs, as `cancelReturn` (or another method) returned them.
    """

    operation_type: OperationType
    operation_ids: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        operation_type = self.operation_type.value

        operation_ids = self.operation_ids

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "operationType": operation_type,
                "operationIds": operation_ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        operation_type = OperationType(d.pop("operationType"))

        operation_ids = cast(list[str], d.pop("operationIds"))

        get_operations_request = cls(
            operation_type=operation_type,
            operation_ids=operation_ids,
        )

        get_operations_request.additional_properties = d
        return get_operations_request

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
