from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.api_response_status_type import ApiResponseStatusType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.paged_returns_dto import PagedReturnsDTO


T = TypeVar("T", bound="GetReturnsResponse")


@_attrs_define
class GetReturnsResponse:
    """A page of a store's returns.

    Example:
        {'status': 'OK', 'result': {'returns': [{'id': 97211, 'orderId': 46150531, 'updateDate':
            '2026-11-26T10:21:37+03:00', 'shipmentStatus': 'CANCELLED', 'items': [{'shopSku': 'KETTLE-17L-WHITE', 'count':
            1}], 'returnType': 'RETURN'}]}}

    Attributes:
        status (ApiResponseStatusType): The type of the answer:

            * `OK` — there are no errors.
            * `ERROR` — an error occurred while processing the request.
             Example: OK.
        result (PagedReturnsDTO | Unset): Returns and unredeemed orders, one page of them. Example: {'paging':
            {'nextPageToken': 'eyJvcCI6Ij4iLCJrZXkiOiI5NzIxMSJ9'}, 'returns': [{'id': 97211, 'orderId': 46150531,
            'shipmentStatus': 'CREATED', 'items': [{'shopSku': 'KETTLE-17L-WHITE', 'count': 1}], 'returnType': 'RETURN'}]}.
    """

    status: ApiResponseStatusType
    result: PagedReturnsDTO | Unset = UNSET
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
        from ..models.paged_returns_dto import PagedReturnsDTO  # noqa: PLC0415

        d = dict(src_dict)
        status = ApiResponseStatusType(d.pop("status"))

        _result = d.pop("result", UNSET)
        result: PagedReturnsDTO | Unset
        if isinstance(_result, Unset):
            result = UNSET
        else:
            result = PagedReturnsDTO.from_dict(_result)

        get_returns_response = cls(
            status=status,
            result=result,
        )

        get_returns_response.additional_properties = d
        return get_returns_response

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
