from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.operation_dto import OperationDTO


T = TypeVar("T", bound="CancelReturnDTO")


@_attrs_define
class CancelReturnDTO:
    """Information about the return cancellation operation.

    Example:
        {'operation': {'id': '6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13', 'type': 'RETURN_CANCELLATION'}}

    Attributes:
        operation (OperationDTO): The started operation; its outcome comes from `getOperations`. Example: {'id':
            '6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13', 'type': 'RETURN_CANCELLATION'}.
    """

    operation: OperationDTO
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        operation = self.operation.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "operation": operation,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.operation_dto import OperationDTO  # noqa: PLC0415

        d = dict(src_dict)
        operation = OperationDTO.from_dict(d.pop("operation"))

        cancel_return_dto = cls(
            operation=operation,
        )

        cancel_return_dto.additional_properties = d
        return cancel_return_dto

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
