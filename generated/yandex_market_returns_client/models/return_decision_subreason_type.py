from enum import StrEnum


class ReturnDecisionSubreasonType(StrEnum):
    BAD_FLOWERS = "BAD_FLOWERS"
    BAD_PACKAGE = "BAD_PACKAGE"
    BROKEN = "BROKEN"
    DAMAGED = "DAMAGED"
    DELIVERED_TOO_LONG = "DELIVERED_TOO_LONG"
    DID_NOT_MATCH_DESCRIPTION = "DID_NOT_MATCH_DESCRIPTION"
    INCOMPLETE = "INCOMPLETE"
    INCOMPLETENESS = "INCOMPLETENESS"
    ITEM_WAS_USED = "ITEM_WAS_USED"
    NOT_WORKING = "NOT_WORKING"
    PARCEL_MISSING = "PARCEL_MISSING"
    UNKNOWN = "UNKNOWN"
    USER_CHANGED_MIND = "USER_CHANGED_MIND"
    USER_DID_NOT_LIKE = "USER_DID_NOT_LIKE"
    WRAPPING_DAMAGED = "WRAPPING_DAMAGED"
    WRONG_AMOUNT_DELIVERED = "WRONG_AMOUNT_DELIVERED"
    WRONG_COLOR = "WRONG_COLOR"
    WRONG_ITEM = "WRONG_ITEM"
    WRONG_ORDER = "WRONG_ORDER"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ReturnDecisionSubreasonType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
