from enum import StrEnum


class ReturnInstanceStatusType(StrEnum):
    CANCELLED = "CANCELLED"
    CREATED = "CREATED"
    EXPROPRIATED = "EXPROPRIATED"
    IN_TRANSIT = "IN_TRANSIT"
    LOST = "LOST"
    NOT_IN_DEMAND = "NOT_IN_DEMAND"
    PICKED = "PICKED"
    PREPARED_FOR_UTILIZATION = "PREPARED_FOR_UTILIZATION"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    RECEIVED = "RECEIVED"
    RECEIVED_ON_FULFILLMENT = "RECEIVED_ON_FULFILLMENT"
    UTILIZED = "UTILIZED"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ReturnInstanceStatusType | None":
        """Keep a value this client does not know yet instead of failing the whole response."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value
        unknown._value_ = value
        return unknown
