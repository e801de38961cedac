from enum import StrEnum


class ReturnDecisionReasonType(StrEnum):
    BAD_QUALITY = "BAD_QUALITY"
    CONTENT_FAIL = "CONTENT_FAIL"
    DAMAGE_DELIVERY = "DAMAGE_DELIVERY"
    DELIVERY_FAIL = "DELIVERY_FAIL"
    DOES_NOT_FIT = "DOES_NOT_FIT"
    LOYALTY_FAIL = "LOYALTY_FAIL"
    UNKNOWN = "UNKNOWN"
    WRONG_ITEM = "WRONG_ITEM"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ReturnDecisionReasonType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
