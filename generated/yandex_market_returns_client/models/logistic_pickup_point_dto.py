from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.logistic_point_type import LogisticPointType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.pickup_address_dto import PickupAddressDTO


T = TypeVar("T", bound="LogisticPickupPointDTO")


@_attrs_define
class LogisticPickupPointDTO:
    """Where the store collects the return.

    Example:
        {'id': 10001563, 'name': 'Pick-up point on Streletskaya', 'address': {'country': 'Russia', 'city': 'Moscow',
            'street': 'Streletskaya street', 'house': '9k2', 'postcode': '123518'}, 'type': 'PICKUP_POINT',
            'logisticPartnerId': 1005471}

    Attributes:
        id (int | Unset): The pick-up point's ID.
        name (str | Unset): The pick-up point's name.
        address (PickupAddressDTO | Unset): A pick-up point's address. Example: {'country': 'Russia', 'city': 'Moscow',
            'street': 'Streletskaya street', 'house': '9k2', 'postcode': '123518'}.
        instruction (str | Unset): Further instructions for collecting the items.
        type_ (LogisticPointType | Unset): The kind of logistics point:

            * `WAREHOUSE` — a warehouse.
            * `PICKUP_POINT` — an ordinary order pick-up point.
            * `PICKUP_TERMINAL` — a parcel locker.
            * `PICKUP_POST_OFFICE` — a post office.
            * `PICKUP_MIXED` — a shop floor with an order pick-up point.
            * `PICKUP_RETAIL` — a shop floor.
             Example: PICKUP_POINT.
        logistic_partner_id (int | Unset): The ID of the logistics partner the point belongs to.
    """

    id: int | Unset = UNSET
    name: str | Unset = UNSET
    address: PickupAddressDTO | Unset = UNSET
    instruction: str | Unset = UNSET
    type_: LogisticPointType | Unset = UNSET
    logistic_partner_id: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        address: dict[str, Any] | Unset = UNSET
        if not isinstance(self.address, Unset):
            address = self.address.to_dict()

        instruction = self.instruction

        type_: str | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = self.type_.value

        logistic_partner_id = self.logistic_partner_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if name is not UNSET:
            field_dict["name"] = name
        if address is not UNSET:
            field_dict["address"] = address
        if instruction is not UNSET:
            field_dict["instruction"] = instruction
        if type_ is not UNSET:
            field_dict["type"] = type_
        if logistic_partner_id is not UNSET:
            field_dict["logisticPartnerId"] = logistic_partner_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.pickup_address_dto import PickupAddressDTO  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id", UNSET)

        name = d.pop("name", UNSET)

        _address = d.pop("address", UNSET)
        address: PickupAddressDTO | Unset
        if isinstance(_address, Unset):
            address = UNSET
        else:
            address = PickupAddressDTO.from_dict(_address)

        instruction = d.pop("instruction", UNSET)

        _type_ = d.pop("type", UNSET)
        type_: LogisticPointType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = LogisticPointType(_type_)

        logistic_partner_id = d.pop("logisticPartnerId", UNSET)

        logistic_pickup_point_dto = cls(
            id=id,
            name=name,
            address=address,
            instruction=instruction,
            type_=type_,
            logistic_partner_id=logistic_partner_id,
        )

        logistic_pickup_point_dto.additional_properties = d
        return logistic_pickup_point_dto

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
