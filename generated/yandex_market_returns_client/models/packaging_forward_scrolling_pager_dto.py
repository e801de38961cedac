from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PackagingForwardScrollingPagerDTO")


@_attrs_define
class PackagingForwardScrollingPagerDTO:
    """Where the next page of results is; no `nextPageToken` on the last page.

    Example:
        {'nextPageToken': 'eyJvcCI6Ij4iLCJrZXkiOiI5NzIxMSJ9'}

    Attributes:
        next_page_token (str | Unset): The token of the next page, to pass as `pageToken`.
    """

    next_page_token: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        next_page_token = self.next_page_token

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if next_page_token is not UNSET:
            field_dict["nextPageToken"] = next_page_token

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        next_page_token = d.pop("nextPageToken", UNSET)

        packaging_forward_scrolling_pager_dto = cls(
            next_page_token=next_page_token,
        )

        packaging_forward_scrolling_pager_dto.additional_properties = d
        return packaging_forward_scrolling_pager_dto

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
