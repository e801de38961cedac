from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.return_decision_reason_type import ReturnDecisionReasonType
from ..models.return_decision_subreason_type import ReturnDecisionSubreasonType
from ..models.return_decision_type import ReturnDecisionType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.currency_value_dto import CurrencyValueDTO


T = TypeVar("T", bound="ReturnDecisionDTO")


@_attrs_define
class ReturnDecisionDTO:
    """A decision on the return of an item.

    Example:
        {'returnItemId': 2039814, 'count': 1, 'comment': 'The lid does not close', 'reasonType': 'BAD_QUALITY',
            'subreasonType': 'DAMAGED', 'decisionType': 'REFUND_MONEY', 'amount': {'value': 1490, 'currencyId': 'RUR'}}

    Attributes:
        return_item_id (int | Unset): The ID of the item in the return.
        count (int | Unset): How many units.
        comment (str | Unset): A comment.
        reason_type (ReturnDecisionReasonType | Unset): Why the item is returned:

            * `BAD_QUALITY` — a defective item.
            * `DOES_NOT_FIT` — it did not suit the buyer.
            * `WRONG_ITEM` — the wrong item was delivered.
            * `DAMAGE_DELIVERY` — damaged in delivery.
            * `LOYALTY_FAIL` — who caused the defect or mix-up cannot be established.
            * `CONTENT_FAIL` — the Market described the item wrongly.
            * `DELIVERY_FAIL` — the item was not delivered.
            * `UNKNOWN` — the reason is not known.
             Example: BAD_QUALITY.
        subreason_type (ReturnDecisionSubreasonType | Unset): The reason in detail:

            * for `DOES_NOT_FIT`: `USER_DID_NOT_LIKE` (the buyer did not like it), `USER_CHANGED_MIND` (changed
              their mind), `DELIVERED_TOO_LONG` (changed their mind because delivery took too long);
            * for `BAD_QUALITY`: `BAD_PACKAGE` (the factory packaging is damaged), `DAMAGED` (scratches, chips),
              `NOT_WORKING` (does not switch on or work), `INCOMPLETENESS` (a part is missing),
              `WRAPPING_DAMAGED` (the shipping packaging is damaged), `ITEM_WAS_USED` (signs of use),
              `BROKEN` (broken), `BAD_FLOWERS` (poor-quality flowers);
            * for `WRONG_ITEM`: `WRONG_ITEM` (not the item ordered), `WRONG_COLOR` (another colour),
              `DID_NOT_MATCH_DESCRIPTION` (does not match its description), `WRONG_ORDER` (someone else's
              order), `WRONG_AMOUNT_DELIVERED` (the wrong quantity), `PARCEL_MISSING` (part of the order is
              missing), `INCOMPLETE` (the order was not delivered in full);
            * `UNKNOWN` — no details given.
             Example: DAMAGED.
        decision_type (ReturnDecisionType | Unset): What was decided:

            * `FAST_REFUND_MONEY` — refund the buyer without taking the item back.
            * `REFUND_MONEY` — refund the buyer for the item.
            * `REFUND_MONEY_INCLUDING_SHIPMENT` — refund the item and the return shipping.
            * `REPAIR` — repair the item.
            * `REPLACE` — replace the item.
            * `SEND_TO_EXAMINATION` — send the item for examination.
            * `DECLINE_REFUND` — refuse the refund.
            * `PARTIAL_MONEY_REFUND` — refund part of the money.
            * `OTHER_DECISION` — another decision.
            * `UNKNOWN` — not given.
             Example: REFUND_MONEY.
        refund_amount (int | Unset): The refund in kopecks. Deprecated; use `amount`.
        amount (CurrencyValueDTO | Unset): An amount of money and its currency. Example: {'value': 1490, 'currencyId':
            'RUR'}.
        partner_compensation (int | Unset): The compensation for the return shipping, in kopecks. Deprecated; use
            `partnerCompensationAmount`.
        partner_compensation_amount (CurrencyValueDTO | Unset): An amount of money and its currency. Example: {'value':
            1490, 'currencyId': 'RUR'}.
        images (list[str] | None | Unset): Hash codes of the buyer's photos of the item.
    """

    return_item_id: int | Unset = UNSET
    count: int | Unset = UNSET
    comment: str | Unset = UNSET
    reason_type: ReturnDecisionReasonType | Unset = UNSET
    subreason_type: ReturnDecisionSubreasonType | Unset = UNSET
    decision_type: ReturnDecisionType | Unset = UNSET
    refund_amount: int | Unset = UNSET
    amount: CurrencyValueDTO | Unset = UNSET
    partner_compensation: int | Unset = UNSET
    partner_compensation_amount: CurrencyValueDTO | Unset = UNSET
    images: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return_item_id = self.return_item_id

        count = self.count

        comment = self.comment

        reason_type: str | Unset = UNSET
        if not isinstance(self.reason_type, Unset):
            reason_type = self.reason_type.value

        subreason_type: str | Unset = UNSET
        if not isinstance(self.subreason_type, Unset):
            subreason_type = self.subreason_type.value

        decision_type: str | Unset = UNSET
        if not isinstance(self.decision_type, Unset):
            decision_type = self.decision_type.value

        refund_amount = self.refund_amount

        amount: dict[str, Any] | Unset = UNSET
        if not isinstance(self.amount, Unset):
            amount = self.amount.to_dict()

        partner_compensation = self.partner_compensation

        partner_compensation_amount: dict[str, Any] | Unset = UNSET
        if not isinstance(self.partner_compensation_amount, Unset):
            partner_compensation_amount = self.partner_compensation_amount.to_dict()

        images: list[str] | None | Unset
        if isinstance(self.images, Unset):
            images = UNSET
        elif isinstance(self.images, list):
            images = self.images

        else:
            images = self.images

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if return_item_id is not UNSET:
            field_dict["returnItemId"] = return_item_id
        if count is not UNSET:
            field_dict["count"] = count
        if comment is not UNSET:
            field_dict["comment"] = comment
        if reason_type is not UNSET:
            field_dict["reasonType"] = reason_type
        if subreason_type is not UNSET:
            field_dict["subreasonType"] = subreason_type
        if decision_type is not UNSET:
            field_dict["decisionType"] = decision_type
        if refund_amount is not UNSET:
            field_dict["refundAmount"] = refund_amount
        if amount is not UNSET:
            field_dict["amount"] = amount
        if partner_compensation is not UNSET:
            field_dict["partnerCompensation"] = partner_compensation
        if partner_compensation_amount is not UNSET:
            field_dict["partnerCompensationAmount"] = partner_compensation_amount
        if images is not UNSET:
            field_dict["images"] = images

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.currency_value_dto import CurrencyValueDTO  # noqa: PLC0415

        d = dict(src_dict)
        return_item_id = d.pop("returnItemId", UNSET)

        count = d.pop("count", UNSET)

        comment = d.pop("comment", UNSET)

        _reason_type = d.pop("reasonType", UNSET)
        reason_type: ReturnDecisionReasonType | Unset
        if isinstance(_reason_type, Unset):
            reason_type = UNSET
        else:
            reason_type = ReturnDecisionReasonType(_reason_type)

        _subreason_type = d.pop("subreasonType", UNSET)
        subreason_type: ReturnDecisionSubreasonType | Unset
        if isinstance(_subreason_type, Unset):
            subreason_type = UNSET
        else:
            subreason_type = ReturnDecisionSubreasonType(_subreason_type)

        _decision_type = d.pop("decisionType", UNSET)
        decision_type: ReturnDecisionType | Unset
        if isinstance(_decision_type, Unset):
            decision_type = UNSET
        else:
            decision_type = ReturnDecisionType(_decision_type)

        refund_amount = d.pop("refundAmount", UNSET)

        _amount = d.pop("amount", UNSET)
        amount: CurrencyValueDTO | Unset
        if isinstance(_amount, Unset):
            amount = UNSET
        else:
            amount = CurrencyValueDTO.from_dict(_amount)

        partner_compensation = d.pop("partnerCompensation", UNSET)

        _partner_compensation_amount = d.pop("partnerCompensationAmount", UNSET)
        partner_compensation_amount: CurrencyValueDTO | Unset
        if isinstance(_partner_compensation_amount, Unset):
            partner_compensation_amount = UNSET
        else:
            partner_compensation_amount = CurrencyValueDTO.from_dict(_partner_compensation_amount)

        def _parse_images(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            if not isinstance(data, list):
                raise TypeError()
            images_type_0 = cast(list[str], data)

            return images_type_0

        images = _parse_images(d.pop("images", UNSET))

        return_decision_dto = cls(
            return_item_id=return_item_id,
            count=count,
            comment=comment,
            reason_type=reason_type,
            subreason_type=subreason_type,
            decision_type=decision_type,
            refund_amount=refund_amount,
            amount=amount,
            partner_compensation=partner_compensation,
            partner_compensation_amount=partner_compensation_amount,
            images=images,
        )

        return_decision_dto.additional_properties = d
        return return_decision_dto

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
