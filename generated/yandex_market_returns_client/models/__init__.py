"""Contains all the data models used in inputs/outputs"""

from .api_error_dto import ApiErrorDTO
from .api_error_response import ApiErrorResponse
from .api_response import ApiResponse
from .api_response_status_type import ApiResponseStatusType
from .cancel_return_dto import CancelReturnDTO
from .cancel_return_request import CancelReturnRequest
from .cancel_return_response import CancelReturnResponse
from .get_operations_request import GetOperationsRequest
from .get_operations_response import GetOperationsResponse
from .get_operations_result_dto import GetOperationsResultDTO
from .operation_dto import OperationDTO
from .operation_result_dto import OperationResultDTO
from .operation_status_type import OperationStatusType
from .operation_type import OperationType

__all__ = (
    "ApiErrorDTO",
    "ApiErrorResponse",
    "ApiResponse",
    "ApiResponseStatusType",
    "CancelReturnDTO",
    "CancelReturnRequest",
    "CancelReturnResponse",
    "GetOperationsRequest",
    "GetOperationsResponse",
    "GetOperationsResultDTO",
    "OperationDTO",
    "OperationResultDTO",
    "OperationStatusType",
    "OperationType",
)
