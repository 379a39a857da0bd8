"""One error format for every failure, and the table from error types to HTTP statuses."""

import json

from amqp.exceptions import RecoverableConnectionError
from kombu.exceptions import OperationalError as BrokerError
from nameko.exceptions import RemoteError, UnknownService
from werkzeug import exceptions as http_exceptions
from werkzeug.wrappers import Response

from common.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unavailable,
    Unprocessable,
    ValidationFailed,
)


class PayloadTooLarge(AppError):
    default_code = "PAYLOAD_TOO_LARGE"
    default_message = "提交的数据过大，请精简后重试"


class TooManyRequests(AppError):
    default_code = "TOO_MANY_REQUESTS"
    default_message = "操作过于频繁，请稍后再试"


class ServiceUnavailable(Unavailable):
    default_code = "SERVICE_UNAVAILABLE"
    default_message = "服务暂时不可用，请稍后重试"


class MethodNotAllowed(AppError):
    default_code = "METHOD_NOT_ALLOWED"
    default_message = "该地址不支持这种请求方法"


# the broker went away under an RPC: a passing fault, not a bug
BROKER_DOWN = (BrokerError, RecoverableConnectionError, ConnectionError)

STATUS = {
    ValidationFailed: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    Unprocessable: 422,
    TooManyRequests: 429,
    Unavailable: 503,
}


def status_of(error: AppError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def json_response(status: int, payload, headers=None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


def error_response(error: AppError) -> Response:
    return json_response(status_of(error), {"error": error.to_dict()})


def translate(exc: Exception) -> AppError:
    """Failures that are not ours (the broker, a service down, a bug) in our format."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, http_exceptions.HTTPException):
        return _from_werkzeug(exc)
    if isinstance(exc, BROKER_DOWN):
        return ServiceUnavailable(code="BROKER_UNAVAILABLE", message="消息服务暂时不可用，请稍后重试")
    if isinstance(exc, UnknownService):
        return ServiceUnavailable(details={"service": str(exc)})
    if isinstance(exc, RemoteError):
        return AppError(code="INTERNAL_ERROR", message="服务内部出错，已记录，请稍后重试")
    return AppError(code="INTERNAL_ERROR", message="网关内部出错，已记录，请稍后重试")


def _from_werkzeug(exc) -> AppError:
    """werkzeug's own errors (routing, form parsing) in our format, never its HTML page."""
    if isinstance(exc, http_exceptions.RequestEntityTooLarge):
        return PayloadTooLarge()
    if isinstance(exc, http_exceptions.NotFound):
        return NotFound(code="ROUTE_NOT_FOUND", message="没有这个接口")
    if isinstance(exc, http_exceptions.MethodNotAllowed):
        return MethodNotAllowed()
    if exc.code and exc.code < 500:
        return ValidationFailed(code="BAD_REQUEST", message="请求格式不正确")
    return AppError(code="INTERNAL_ERROR", message="网关内部出错，已记录，请稍后重试")
