from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.return_decision_dto import ReturnDecisionDTO
    from ..models.return_instance_dto import ReturnInstanceDTO
    from ..models.track_dto import TrackDTO


T = TypeVar("T", bound="ReturnItemDTO")


@_attrs_define
class ReturnItemDTO:
    """An item of the return, and what was decided about it.

    Example:
        {'marketSku': 101892374534, 'shopSku': 'KETTLE-17L-WHITE', 'count': 1}

    Attributes:
        shop_sku (str): Your SKU: the product's ID in your own system. Each product has its own, never reused for
            another. Spaces at either end are removed.
             Example: KETTLE-17L-WHITE.
        count (int): How many units.
        market_sku (int | Unset): The ID of the product's card on the Market. Example: 101892374534.
        decisions (list[ReturnDecisionDTO] | None | Unset): The decisions on the return of this item.
        instances (list[ReturnInstanceDTO] | None | Unset): The item's units on their way back.
        tracks (list[TrackDTO] | None | Unset): The tracking codes of postal parcels.
    """

    shop_sku: str
    count: int
    market_sku: int | Unset = UNSET
    decisions: list[ReturnDecisionDTO] | None | Unset = UNSET
    instances: list[ReturnInstanceDTO] | None | Unset = UNSET
    tracks: list[TrackDTO] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        shop_sku = self.shop_sku

        count = self.count

        market_sku = self.market_sku

        decisions: list[dict[str, Any]] | None | Unset
        if isinstance(self.decisions, Unset):
            decisions = UNSET
        elif isinstance(self.decisions, list):
            decisions = []
            for decisions_type_0_item_data in self.decisions:
                decisions_type_0_item = decisions_type_0_item_data.to_dict()
                decisions.append(decisions_type_0_item)

        else:
            decisions = self.decisions

        instances: list[dict[str, Any]] | None | Unset
        if isinstance(self.instances, Unset):
            instances = UNSET
        elif isinstance(self.instances, list):
            instances = []
            for instances_type_0_item_data in self.instances:
                instances_type_0_item = instances_type_0_item_data.to_dict()
                instances.append(instances_type_0_item)

        else:
            instances = self.instances

        tracks: list[dict[str, Any]] | None | Unset
        if isinstance(self.tracks, Unset):
            tracks = UNSET
        elif isinstance(self.tracks, list):
            tracks = []
            for tracks_type_0_item_data in self.tracks:
                tracks_type_0_item = tracks_type_0_item_data.to_dict()
                tracks.append(tracks_type_0_item)

        else:
            tracks = self.tracks

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "shopSku": shop_sku,
                "count": count,
            }
        )
        if market_sku is not UNSET:
            field_dict["marketSku"] = market_sku
        if decisions is not UNSET:
            field_dict["decisions"] = decisions
        if instances is not UNSET:
            field_dict["instances"] = instances
        if tracks is not UNSET:
            field_dict["tracks"] = tracks

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.return_decision_dto import ReturnDecisionDTO  # noqa: PLC0415
        from ..models.return_instance_dto import ReturnInstanceDTO  # noqa: PLC0415
        from ..models.track_dto import TrackDTO  # noqa: PLC0415

        d = dict(src_dict)
        shop_sku = d.pop("shopSku")

        count = d.pop("count")

        market_sku = d.pop("marketSku", UNSET)

        def _parse_decisions(data: object) -> list[ReturnDecisionDTO] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            if not isinstance(data, list):
                raise TypeError()
            decisions_type_0 = []
            _decisions_type_0 = data
            for decisions_type_0_item_data in _decisions_type_0:
                decisions_type_0_item = ReturnDecisionDTO.from_dict(decisions_type_0_item_data)

                decisions_type_0.append(decisions_type_0_item)

            return decisions_type_0

        decisions = _parse_decisions(d.pop("decisions", UNSET))

        def _parse_instances(data: object) -> list[ReturnInstanceDTO] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            if not isinstance(data, list):
                raise TypeError()
            instances_type_0 = []
            _instances_type_0 = data
            for instances_type_0_item_data in _instances_type_0:
                instances_type_0_item = ReturnInstanceDTO.from_dict(instances_type_0_item_data)

                instances_type_0.append(instances_type_0_item)

            return instances_type_0

        instances = _parse_instances(d.pop("instances", UNSET))

        def _parse_tracks(data: object) -> list[TrackDTO] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            if not isinstance(data, list):
                raise TypeError()
            tracks_type_0 = []
            _tracks_type_0 = data
            for tracks_type_0_item_data in _tracks_type_0:
                tracks_type_0_item = TrackDTO.from_dict(tracks_type_0_item_data)

                tracks_type_0.append(tracks_type_0_item)

            return tracks_type_0

        tracks = _parse_tracks(d.pop("tracks", UNSET))

        return_item_dto = cls(
            shop_sku=shop_sku,
            count=count,
            market_sku=market_sku,
            decisions=decisions,
            instances=instances,
            tracks=tracks,
        )

        return_item_dto.additional_properties = d
        return return_item_dto

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
