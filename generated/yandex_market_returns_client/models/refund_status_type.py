from enum import StrEnum


class RefundStatusType(StrEnum):
    CANCELLED = "CANCELLED"
    COMPLETE_WITHOUT_REFUND = "COMPLETE_WITHOUT_REFUND"
    DECISION_MADE = "DECISION_MADE"
    FAILED = "FAILED"
    PREMODERATION_DECISION_MADE = "PREMODERATION_DECISION_MADE"
    PREMODERATION_DECISION_WAITING = "PREMODERATION_DECISION_WAITING"
    PREMODERATION_DISPUTE = "PREMODERATION_DISPUTE"
    PREMODERATION_SELECT_DELIVERY = "PREMODERATION_SELECT_DELIVERY"
    REFUNDED = "REFUNDED"
    REFUNDED_BY_SHOP = "REFUNDED_BY_SHOP"
    REFUNDED_WITH_BONUSES = "REFUNDED_WITH_BONUSES"
    REFUND_IN_PROGRESS = "REFUND_IN_PROGRESS"
    REJECTED = "REJECTED"
    STARTED_BY_USER = "STARTED_BY_USER"
    UNKNOWN = "UNKNOWN"
    WAITING_FOR_DECISION = "WAITING_FOR_DECISION"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "RefundStatusType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
