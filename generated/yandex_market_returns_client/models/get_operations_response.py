from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.api_response_status_type import ApiResponseStatusType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.get_operations_result_dto import GetOperationsResultDTO


T = TypeVar("T", bound="GetOperationsResponse")


@_attrs_define
class GetOperationsResponse:
    """The operations' statuses.

    Example:
        {'status': 'OK', 'result': {'operations': [{'id': '6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13', 'type':
            'RETURN_CANCELLATION', 'status': 'DONE'}]}}

    Attributes:
        status (ApiResponseStatusType): The type of the answer:

            * `OK` — there are no errors.
            * `ERROR` — an error occurred while processing the request.
             Example: OK.
        result (GetOperationsResultDTO | Unset): The operations the Market knows of among those asked for. Example:
            {'operations': [{'id': '6f1d2a4e-93b7-4c0e-8a51-2d7c9e0b4f13', 'type': 'RETURN_CANCELLATION', 'status':
            'FAILED'}]}.
    """

    status: ApiResponseStatusType
    result: GetOperationsResultDTO | Unset = UNSET
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
        from ..models.get_operations_result_dto import GetOperationsResultDTO  # noqa: PLC0415

        d = dict(src_dict)
        status = ApiResponseStatusType(d.pop("status"))

        _result = d.pop("result", UNSET)
        result: GetOperationsResultDTO | Unset
        if isinstance(_result, Unset):
            result = UNSET
        else:
            result = GetOperationsResultDTO.from_dict(_result)

        get_operations_response = cls(
            status=status,
            result=result,
        )

        get_operations_response.additional_properties = d
        return get_operations_response

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
