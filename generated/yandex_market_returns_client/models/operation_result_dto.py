from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.operation_status_type import OperationStatusType
from ..models.operation_type import OperationType

T = TypeVar("T", bound="OperationResultDTO")


@_attrs_define
class OperationResultDTO:
    """One operation and how far it got.

    Example:
        {'id': '6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13', 'type': 'RETURN_CANCELLATION', 'status': 'IN_PROGRESS'}

    Attributes:
        id (str): The operation's ID. Example: 6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13.
        type_ (OperationType): The operation's type:

            * `ORDER_RECIPIENT_UPDATE` — changing the recipient's data.
            * `ORDER_DELIVERY_INTERVAL_UPDATE` — changing the delivery date interval.
            * `ORDER_STATUS_UPDATE` — updating the order's status to cancel it.
            * `RETURN_CANCELLATION` — cancelling a return.

            The Market adds types over time: clients should accept values not listed here.
             Example: RETURN_CANCELLATION.
        status (OperationStatusType): How far the operation got:

            * `IN_PROGRESS` — it is still running; ask again later.
            * `DONE` — it completed successfully (for `RETURN_CANCELLATION`: the return is cancelled).
            * `FAILED` — it ended with an error (for `RETURN_CANCELLATION`: the return is not cancelled).

            The Market may add statuses: clients should accept values not listed here.
             Example: DONE.
    """

    id: str
    type_: OperationType
    status: OperationStatusType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        type_ = self.type_.value

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        type_ = OperationType(d.pop("type"))

        status = OperationStatusType(d.pop("status"))

        operation_result_dto = cls(
            id=id,
            type_=type_,
            status=status,
        )

        operation_result_dto.additional_properties = d
        return operation_result_dto

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
