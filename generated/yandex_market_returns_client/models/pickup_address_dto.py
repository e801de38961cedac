from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PickupAddressDTO")


@_attrs_define
class PickupAddressDTO:
    """A pick-up point's address.

    Example:
        {'country': 'Russia', 'city': 'Moscow', 'street': 'Streletskaya street', 'house': '9k2', 'postcode': '123518'}

    Attributes:
        country (str | Unset): The country. Example: Russia.
        city (str | Unset): The city. Example: Moscow.
        street (str | Unset): The street. Example: Streletskaya street.
        house (str | Unset): The house number. Example: 9k2.
        postcode (str | Unset): The postcode. Example: 123518.
    """

    country: str | Unset = UNSET
    city: str | Unset = UNSET
    street: str | Unset = UNSET
    house: str | Unset = UNSET
    postcode: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        country = self.country

        city = self.city

        street = self.street

        house = self.house

        postcode = self.postcode

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if country is not UNSET:
            field_dict["country"] = country
        if city is not UNSET:
            field_dict["city"] = city
        if street is not UNSET:
            field_dict["street"] = street
        if house is not UNSET:
            field_dict["house"] = house
        if postcode is not UNSET:
            field_dict["postcode"] = postcode

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        country = d.pop("country", UNSET)

        city = d.pop("city", UNSET)

        street = d.pop("street", UNSET)

        house = d.pop("house", UNSET)

        postcode = d.pop("postcode", UNSET)

        pickup_address_dto = cls(
            country=country,
            city=city,
            street=street,
            house=house,
            postcode=postcode,
        )

        pickup_address_dto.additional_properties = d
        return pickup_address_dto

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
