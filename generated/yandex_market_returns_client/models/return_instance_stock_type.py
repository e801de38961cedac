from enum import StrEnum


class ReturnInstanceStockType(StrEnum):
    ANOMALY = "ANOMALY"
    DEFECT = "DEFECT"
    DEMO = "DEMO"
    EXPIRED = "EXPIRED"
    FIRMWARE = "FIRMWARE"
    FIT = "FIT"
    INCORRECT_CIS = "INCORRECT_CIS"
    INCORRECT_IMEI = "INCORRECT_IMEI"
    INCORRECT_SERIAL_NUMBER = "INCORRECT_SERIAL_NUMBER"
    MARKDOWN = "MARKDOWN"
    MISGRADING = "MISGRADING"
    NON_COMPLIENT = "NON_COMPLIENT"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    PART_MISSING = "PART_MISSING"
    REPAIR = "REPAIR"
    SERVICE = "SERVICE"
    SURPLUS = "SURPLUS"
    UNDEFINED = "UNDEFINED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ReturnInstanceStockType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
