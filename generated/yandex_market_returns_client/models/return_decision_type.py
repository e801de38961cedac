from enum import StrEnum


class ReturnDecisionType(StrEnum):
    DECLINE_REFUND = "DECLINE_REFUND"
    FAST_REFUND_MONEY = "FAST_REFUND_MONEY"
    OTHER_DECISION = "OTHER_DECISION"
    PARTIAL_MONEY_REFUND = "PARTIAL_MONEY_REFUND"
    REFUND_MONEY = "REFUND_MONEY"
    REFUND_MONEY_INCLUDING_SHIPMENT = "REFUND_MONEY_INCLUDING_SHIPMENT"
    REPAIR = "REPAIR"
    REPLACE = "REPLACE"
    SEND_TO_EXAMINATION = "SEND_TO_EXAMINATION"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ReturnDecisionType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
