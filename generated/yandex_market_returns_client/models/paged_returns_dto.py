from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.packaging_forward_scrolling_pager_dto import PackagingForwardScrollingPagerDTO
    from ..models.return_dto import ReturnDTO


T = TypeVar("T", bound="PagedReturnsDTO")


@_attrs_define
class PagedReturnsDTO:
    """Returns and unredeemed orders, one page of them.

    Example:
        {'paging': {'nextPageToken': 'eyJvcCI6Ij4iLCJrZXkiOiI5NzIxMSJ9'}, 'returns': [{'id': 97211, 'orderId': 46150531,
            'shipmentStatus': 'CREATED', 'items': [{'shopSku': 'KETTLE-17L-WHITE', 'count': 1}], 'returnType': 'RETURN'}]}

    Attributes:
        returns (list[ReturnDTO]): The returns and unredeemed orders of this page.
        paging (PackagingForwardScrollingPagerDTO | Unset): Where the next page of results is; no `nextPageToken` on the
            last page. Example: {'nextPageToken': 'eyJvcCI6Ij4iLCJrZXkiOiI5NzIxMSJ9'}.
    """

    returns: list[ReturnDTO]
    paging: PackagingForwardScrollingPagerDTO | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        returns = []
        for returns_item_data in self.returns:
            returns_item = returns_item_data.to_dict()
            returns.append(returns_item)

        paging: dict[str, Any] | Unset = UNSET
        if not isinstance(self.paging, Unset):
            paging = self.paging.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "returns": returns,
            }
        )
        if paging is not UNSET:
            field_dict["paging"] = paging

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.packaging_forward_scrolling_pager_dto import PackagingForwardScrollingPagerDTO  # noqa: PLC0415
        from ..models.return_dto import ReturnDTO  # noqa: PLC0415

        d = dict(src_dict)
        returns = []
        _returns = d.pop("returns")
        for returns_item_data in _returns:
            returns_item = ReturnDTO.from_dict(returns_item_data)

            returns.append(returns_item)

        _paging = d.pop("paging", UNSET)
        paging: PackagingForwardScrollingPagerDTO | Unset
        if isinstance(_paging, Unset):
            paging = UNSET
        else:
            paging = PackagingForwardScrollingPagerDTO.from_dict(_paging)

        paged_returns_dto = cls(
            returns=returns,
            paging=paging,
        )

        paged_returns_dto.additional_properties = d
        return paged_returns_dto

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
