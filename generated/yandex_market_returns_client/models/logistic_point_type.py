from enum import StrEnum


class LogisticPointType(StrEnum):
    PICKUP_MIXED = "PICKUP_MIXED"
    PICKUP_POINT = "PICKUP_POINT"
    PICKUP_POST_OFFICE = "PICKUP_POST_OFFICE"
    PICKUP_RETAIL = "PICKUP_RETAIL"
    PICKUP_TERMINAL = "PICKUP_TERMINAL"
    WAREHOUSE = "WAREHOUSE"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "LogisticPointType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
