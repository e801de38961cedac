"""Contains all the data models used in inputs/outputs"""

from .api_error_dto import ApiErrorDTO
from .api_error_response import ApiErrorResponse
from .api_response import ApiResponse
from .api_response_status_type import ApiResponseStatusType
from .cancel_return_dto import CancelReturnDTO
from .cancel_return_request import CancelReturnRequest
from .cancel_return_response import CancelReturnResponse
from .currency_type import CurrencyType
from .currency_value_dto import CurrencyValueDTO
from .get_operations_request import GetOperationsRequest
from .get_operations_response import GetOperationsResponse
from .get_operations_result_dto import GetOperationsResultDTO
from .get_return_response import GetReturnResponse
from .get_returns_response import GetReturnsResponse
from .logistic_pickup_point_dto import LogisticPickupPointDTO
from .logistic_point_type import LogisticPointType
from .operation_dto import OperationDTO
from .operation_result_dto import OperationResultDTO
from .operation_status_type import OperationStatusType
from .operation_type import OperationType
from .packaging_forward_scrolling_pager_dto import PackagingForwardScrollingPagerDTO
from .paged_returns_dto import PagedReturnsDTO
from .pickup_address_dto import PickupAddressDTO
from .recipient_type import RecipientType
from .refund_status_type import RefundStatusType
from .return_decision_dto import ReturnDecisionDTO
from .return_decision_reason_type import ReturnDecisionReasonType
from .return_decision_subreason_type import ReturnDecisionSubreasonType
from .return_decision_type import ReturnDecisionType
from .return_dto import ReturnDTO
from .return_instance_dto import ReturnInstanceDTO
from .return_instance_status_type import ReturnInstanceStatusType
from .return_instance_stock_type import ReturnInstanceStockType
from .return_item_dto import ReturnItemDTO
from .return_shipment_status_type import ReturnShipmentStatusType
from .return_type import ReturnType
from .track_dto import TrackDTO

__all__ = (
    "ApiErrorDTO",
    "ApiErrorResponse",
    "ApiResponse",
    "ApiResponseStatusType",
    "CancelReturnDTO",
    "CancelReturnRequest",
    "CancelReturnResponse",
    "CurrencyType",
    "CurrencyValueDTO",
    "GetOperationsRequest",
    "GetOperationsResponse",
    "GetOperationsResultDTO",
    "GetReturnResponse",
    "GetReturnsResponse",
    "LogisticPickupPointDTO",
    "LogisticPointType",
    "OperationDTO",
    "OperationResultDTO",
    "OperationStatusType",
    "OperationType",
    "PackagingForwardScrollingPagerDTO",
    "PagedReturnsDTO",
    "PickupAddressDTO",
    "RecipientType",
    "RefundStatusType",
    "ReturnDecisionDTO",
    "ReturnDecisionReasonType",
    "ReturnDecisionSubreasonType",
    "ReturnDecisionType",
    "ReturnDTO",
    "ReturnInstanceDTO",
    "ReturnInstanceStatusType",
    "ReturnInstanceStockType",
    "ReturnItemDTO",
    "ReturnShipmentStatusType",
    "ReturnType",
    "TrackDTO",
)
