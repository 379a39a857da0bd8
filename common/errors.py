"""Error types that cross the RPC boundary intact.

Each carries a stable English ``code``, a Chinese ``message`` a person can act on, and optional
per-field errors. ``deserialize_to_instance`` makes nameko rebuild them on the caller's side, so
the gateway can map them to HTTP statuses (see ``gateway/errors.py``).
"""

import re

from nameko.exceptions import deserialize_to_instance


@deserialize_to_instance
class AppError(Exception):
    default_code = "ERROR"
    default_message = "请求无法完成"

    def __init__(self, code=None, message=None, fields=None, details=None):
        self.code = code or self.default_code
        self.message = message or self.default_message
        self.fields = fields or {}
        self.details = details or {}
        # args must be JSON primitives: nameko serialises them into the RPC reply
        super().__init__(self.code, self.message, self.fields, self.details)

    def __init_subclass__(cls, **kwargs):
        # every subclass comes back from an RPC as itself, not as a generic RemoteError
        super().__init_subclass__(**kwargs)
        deserialize_to_instance(cls)

    def __str__(self):
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        body.update(self.details)
        return body


class ValidationFailed(AppError):
    default_code = "VALIDATION_ERROR"
    default_message = "提交的数据有误，请按提示修改后重试"


class NotFound(AppError):
    default_code = "NOT_FOUND"
    default_message = "要找的记录不存在"


class Conflict(AppError):
    default_code = "CONFLICT"
    default_message = "操作与当前状态冲突"


class Forbidden(AppError):
    default_code = "FORBIDDEN"
    default_message = "您没有权限进行此操作"


class Unauthorized(AppError):
    default_code = "UNAUTHORIZED"
    default_message = "请先登录"


class Unavailable(AppError):
    """A passing fault (the database or the broker unreachable for now): retry later, HTTP 503."""

    default_code = "SERVICE_UNAVAILABLE"
    default_message = "服务暂时不可用，请稍后重试"


class Unprocessable(AppError):
    default_code = "UNPROCESSABLE"
    default_message = "数据格式正确，但不符合业务规则"


def from_marshmallow(err, message=None) -> ValidationFailed:
    """Turn a marshmallow ValidationError into our error, keeping its field messages."""
    messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    return ValidationFailed(fields=_translate(messages), message=message)


_ZH = {
    "Missing data for required field.": "必填项，不能为空",
    "Unknown field.": "不认识的字段",
    "Not a valid integer.": "应为整数",
    "Not a valid string.": "应为文字",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为是或否（true/false）",
    "Not a valid datetime.": "应为日期时间，如 2026-11-21T09:00:00+08:00",
    "Not a valid date.": "应为日期，如 2026-11-21",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Field may not be null.": "不能为空值",
    "Invalid input type.": "数据类型不对",
}


_CJK = re.compile("[\u4e00-\u9fff]")
FALLBACK_MESSAGE = "填写的值不符合要求"


def _zh(message: str) -> str:
    """A field message as a person reads it: never English (see ``common/validation.py``)."""
    message = _ZH.get(message, message)
    return message if _CJK.search(message) else FALLBACK_MESSAGE


def _translate(messages):
    if isinstance(messages, dict):
        return {str(k): _translate(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [_zh(m) if isinstance(m, str) else _translate(m) for m in messages]
    return _zh(messages) if isinstance(messages, str) else messages
