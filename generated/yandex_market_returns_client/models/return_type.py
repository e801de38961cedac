from enum import StrEnum


class ReturnType(StrEnum):
    RETURN = "RETURN"
    UNREDEEMED = "UNREDEEMED"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ReturnType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
