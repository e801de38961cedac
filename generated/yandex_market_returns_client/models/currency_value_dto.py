from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency_type import CurrencyType

T = TypeVar("T", bound="CurrencyValueDTO")


@_attrs_define
class CurrencyValueDTO:
    """An amount of money and its currency.

    Example:
        {'value': 1490, 'currencyId': 'RUR'}

    Attributes:
        value (float): The amount.
        currency_id (CurrencyType): A currency's code, for example:

            * `RUR` — the Russian rouble.
            * `UAH` — the Ukrainian hryvnia.
            * `BYR` — the Belarusian rouble.
            * `KZT` — the Kazakhstani tenge.
            * `UZS` — the Uzbekistani som.
             Example: RUR.
    """

    value: float
    currency_id: CurrencyType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        value = self.value

        currency_id = self.currency_id.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "value": value,
                "currencyId": currency_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        value = d.pop("value")

        currency_id = CurrencyType(d.pop("currencyId"))

        currency_value_dto = cls(
            value=value,
            currency_id=currency_id,
        )

        currency_value_dto.additional_properties = d
        return currency_value_dto

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
