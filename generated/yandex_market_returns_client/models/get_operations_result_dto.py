from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.operation_result_dto import OperationResultDTO


T = TypeVar("T", bound="GetOperationsResultDTO")


@_attrs_define
class GetOperationsResultDTO:
    """The operations the Market knows of among those asked for.

    Example:
        {'operations': [{'id': '6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13', 'type': 'RETURN_CANCELLATION', 'status':
            'FAILED'}]}

    Attributes:
        operations (list[OperationResultDTO]): The operations; one the Market does not know is left out.
    """

    operations: list[OperationResultDTO]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        operations = []
        for operations_item_data in self.operations:
            operations_item = operations_item_data.to_dict()
            operations.append(operations_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "operations": operations,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.operation_result_dto import OperationResultDTO  # noqa: PLC0415

        d = dict(src_dict)
        operations = []
        _operations = d.pop("operations")
        for operations_item_data in _operations:
            operations_item = OperationResultDTO.from_dict(operations_item_data)

            operations.append(operations_item)

        get_operations_result_dto = cls(
            operations=operations,
        )

        get_operations_result_dto.additional_properties = d
        return get_operations_result_dto

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
