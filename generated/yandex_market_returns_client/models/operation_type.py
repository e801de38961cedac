from enum import StrEnum


class OperationType(StrEnum):
    ORDER_DELIVERY_INTERVAL_UPDATE = "ORDER_DELIVERY_INTERVAL_UPDATE"
    ORDER_RECIPIENT_UPDATE = "ORDER_RECIPIENT_UPDATE"
    ORDER_STATUS_UPDATE = "ORDER_STATUS_UPDATE"
    RETURN_CANCELLATION = "RETURN_CANCELLATION"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "OperationType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
