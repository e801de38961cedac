from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.return_instance_status_type import ReturnInstanceStatusType
from ..models.return_instance_stock_type import ReturnInstanceStockType
from ..types import UNSET, Unset

T = TypeVar("T", bound="ReturnInstanceDTO")


@_attrs_define
class ReturnInstanceDTO:
    """One unit of a returned item on its way back.

    Example:
        {'stockType': 'DEFECT', 'status': 'IN_TRANSIT'}

    Attributes:
        stock_type (ReturnInstanceStockType | Unset): The kind of stock a unit is put in:

            * `FIT` — fit for sale.
            * `DEFECT` — defective.
            * `ANOMALY` — an anomaly.
            * `SURPLUS` — surplus.
            * `EXPIRED` — past its shelf life.
            * `MISGRADING` — mixed up with another product.
            * `UNDEFINED` — of unknown state.
            * `INCORRECT_IMEI` — with a wrong IMEI.
            * `INCORRECT_SERIAL_NUMBER` — with a wrong serial number.
            * `INCORRECT_CIS` — with a wrong identification code ("Chestny ZNAK" or "ASL BELGISI").
            * `PART_MISSING` — a shortage.
            * `NON_COMPLIENT` — with several discrepancies.
            * `NOT_ACCEPTABLE` — a product the Market does not accept.
            * `SERVICE` — service stock.
            * `MARKDOWN` — marked down.
            * `DEMO` — a demo unit.
            * `REPAIR` — in repair.
            * `FIRMWARE` — in firmware update.
            * `UNKNOWN` — of an unknown kind.
             Example: DEFECT.
        status (ReturnInstanceStatusType | Unset): Where one unit is on its way back:

            * `CREATED` — the return was created.
            * `RECEIVED` — accepted from the sender.
            * `IN_TRANSIT` — on its way.
            * `READY_FOR_PICKUP` — ready to be collected by the store.
            * `PICKED` — collected by the store.
            * `RECEIVED_ON_FULFILLMENT` — received at a Market warehouse.
            * `CANCELLED` — the return was cancelled.
            * `LOST` — lost.
            * `UTILIZED` — disposed of.
            * `PREPARED_FOR_UTILIZATION` — ready for disposal.
            * `EXPROPRIATED` — sent for resale.
            * `NOT_IN_DEMAND` — not collected from the post office.
             Example: IN_TRANSIT.
        cis (str | Unset): The unit's identification code in the "Chestny ZNAK" system (or "ASL BELGISI" for Market
            Yandex Go sellers).
        imei (str | Unset): The International Mobile Equipment Identity.
    """

    stock_type: ReturnInstanceStockType | Unset = UNSET
    status: ReturnInstanceStatusType | Unset = UNSET
    cis: str | Unset = UNSET
    imei: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        stock_type: str | Unset = UNSET
        if not isinstance(self.stock_type, Unset):
            stock_type = self.stock_type.value

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        cis = self.cis

        imei = self.imei

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if stock_type is not UNSET:
            field_dict["stockType"] = stock_type
        if status is not UNSET:
            field_dict["status"] = status
        if cis is not UNSET:
            field_dict["cis"] = cis
        if imei is not UNSET:
            field_dict["imei"] = imei

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _stock_type = d.pop("stockType", UNSET)
        stock_type: ReturnInstanceStockType | Unset
        if isinstance(_stock_type, Unset):
            stock_type = UNSET
        else:
            stock_type = ReturnInstanceStockType(_stock_type)

        _status = d.pop("status", UNSET)
        status: ReturnInstanceStatusType | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = ReturnInstanceStatusType(_status)

        cis = d.pop("cis", UNSET)

        imei = d.pop("imei", UNSET)

        return_instance_dto = cls(
            stock_type=stock_type,
            status=status,
            cis=cis,
            imei=imei,
        )

        return_instance_dto.additional_properties = d
        return return_instance_dto

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
