"""Chinese validation messages and storage bounds for every marshmallow field, installed once.

Services declare their schemas with plain marshmallow; this module (installed when ``common`` is
imported, before any schema class is built) gives every field type and validator a Chinese
default message, so no English validation text can reach a person, and gives every loaded value
the bounds the databases rely on:

- integers within the databases' ``INTEGER`` (32-bit signed: PostgreSQL's ``integer``); a
  field may declare a wider ``validate.Range`` of its own up to 63 bits;
- floats finite and within ±1e9 unless the field declares its own ``Range``;
- strings: no lone surrogates (they cannot be encoded as UTF-8, so every database and the
  broker would fail on them later), at most ``STRING_MAX`` characters unless the field
  declares its own ``Length``/``OneOf``.

Domain bounds (minutes, points, places, hours) stay on each field as ``validate.Range``.
"""

import math
import re

from marshmallow import Schema, fields, validate

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # what an INTEGER column stores on every database
INT63_MAX = 2**63 - 1
FLOAT_MAX = 1e9
STRING_MAX = 10_000
SURROGATE = re.compile("[\ud800-\udfff]")

FIELD_MESSAGES = {
    fields.Field: {"required": "必填项，不能为空", "null": "不能为空值", "validator_failed": "填写的值不符合要求"},
    fields.Nested: {"type": "应为对象"},
    fields.List: {"invalid": "应为列表"},
    fields.Tuple: {"invalid": "应为固定项数的列表"},
    fields.String: {"invalid": "应为文字", "invalid_utf8": "文字编码无效（应为 UTF-8）",
                    "surrogate": "含有无效的字符（孤立的代理码位）",
                    "too_long": "文字过长，最多 {max} 个字"},
    fields.UUID: {"invalid_uuid": "应为 UUID"},
    fields.Number: {"invalid": "应为数字", "too_large": "数值过大",
                    "out_of_range": "数值超出允许范围（{min} 到 {max}）"},
    fields.Integer: {"invalid": "应为整数"},
    fields.Float: {"special": "不能为 NaN 或无穷大"},
    fields.Decimal: {"special": "不能为 NaN 或无穷大"},
    fields.Boolean: {"invalid": "应为是或否（true/false）"},
    fields._TemporalField: {"invalid": "日期或时间的写法不对", "invalid_awareness": "日期或时间的时区写法不对",
                            "format": "无法表示为日期或时间"},
    fields.DateTime: {"invalid": "应为日期时间，如 2026-11-21T09:00:00+08:00",
                      "invalid_awareness": "应为带时区的日期时间，如 2026-11-21T09:00:00+08:00",
                      "format": "无法表示为日期时间"},
    fields.NaiveDateTime: {"invalid_awareness": "应为不带时区的日期时间，如 2026-11-21T09:00:00"},
    fields.AwareDateTime: {"invalid_awareness": "应为带时区的日期时间，如 2026-11-21T09:00:00+08:00"},
    fields.Date: {"invalid": "应为日期，如 2026-11-21", "format": "无法表示为日期"},
    fields.Time: {"invalid": "应为时间，如 09:00", "format": "无法表示为时间",
                  "invalid_awareness": "时间的时区写法不对"},
    fields.TimeDelta: {"invalid": "应为时长", "format": "无法表示为时长"},
    fields.Mapping: {"invalid": "应为对象"},
    fields.Url: {"invalid": "应为有效的网址"},
    fields.Email: {"invalid": "应为有效的电子邮箱地址"},
    fields.IP: {"invalid_ip": "应为有效的 IP 地址"},
    fields.IPv4: {"invalid_ip": "应为有效的 IPv4 地址"},
    fields.IPv6: {"invalid_ip": "应为有效的 IPv6 地址"},
    fields.IPInterface: {"invalid_ip_interface": "应为有效的网段"},
    fields.IPv4Interface: {"invalid_ip_interface": "应为有效的 IPv4 网段"},
    fields.IPv6Interface: {"invalid_ip_interface": "应为有效的 IPv6 网段"},
    fields.Enum: {"unknown": "应为以下之一：{choices}"},
}

VALIDATOR_MESSAGES = {
    validate.URL: {"default_message": "应为有效的网址"},
    validate.Email: {"default_message": "应为有效的电子邮箱地址"},
    validate.Range: {"message_min": "应{min_op} {{min}}", "message_max": "应{max_op} {{max}}",
                     "message_all": "应{min_op} {{min}} 且{max_op} {{max}}", "message_gte": "不小于",
                     "message_gt": "大于", "message_lte": "不大于", "message_lt": "小于"},
    validate.Length: {"message_min": "长度不能少于 {min}", "message_max": "长度不能超过 {max}",
                      "message_all": "长度应在 {min} 到 {max} 之间", "message_equal": "长度应为 {equal}"},
    validate.Equal: {"default_message": "应等于 {other}"},
    validate.Regexp: {"default_message": "格式不正确"},
    validate.Predicate: {"default_message": "填写的值无效"},
    validate.NoneOf: {"default_message": "不允许使用该值"},
    validate.OneOf: {"default_message": "应为以下之一：{choices}"},
    validate.ContainsOnly: {"default_message": "含有不允许的选项，可选：{choices}"},
    validate.ContainsNoneOf: {"default_message": "含有不允许的选项：{values}"},
}

SCHEMA_MESSAGES = {"type": "数据类型不对", "unknown": "不认识的字段"}


def _own(field, kinds):
    """The field's own validators of these kinds (its domain bounds)."""
    return [v for v in field.validators if isinstance(v, kinds)]


def _plain(number) -> str:
    """1e9 as 1000000000, 0.01 as 0.01: what a person reads beside a field."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _bounded_number(original):
    def _validated(self, value):
        num = original(self, value)
        if isinstance(num, bool) or not isinstance(num, int | float):
            return num
        ranges = _own(self, validate.Range)
        if isinstance(num, int):
            # a field's own Range may widen the INTEGER bound, never past 63 bits
            lo = max(-INT63_MAX - 1, min([INT_MIN] + [r.min for r in ranges if r.min is not None]))
            hi = min(INT63_MAX, max([INT_MAX] + [r.max for r in ranges if r.max is not None]))
        elif not math.isfinite(num):
            return num  # Float's own check answers "special"
        else:  # the field's own Range (checked after this) or ±FLOAT_MAX
            lo = max([r.min for r in ranges if r.min is not None], default=-FLOAT_MAX)
            hi = min([r.max for r in ranges if r.max is not None], default=FLOAT_MAX)
        if num < lo or num > hi:
            raise self.make_error("out_of_range", min=_plain(lo), max=_plain(hi))
        return num

    return _validated


def _checked_string(original):
    def _deserialize(self, value, attr, data, **kwargs):
        text = original(self, value, attr, data, **kwargs)
        if isinstance(text, str):
            if SURROGATE.search(text):
                raise self.make_error("surrogate")
            if len(text) > STRING_MAX and not _own(self, (validate.Length, validate.OneOf)):
                raise self.make_error("too_long", max=STRING_MAX)
        return text

    return _deserialize


def install():
    """Idempotent: set the Chinese defaults and the bounds on marshmallow's classes."""
    if getattr(fields.Field, "_baodao_installed", False):
        return
    for cls, messages in FIELD_MESSAGES.items():
        # a class's own dict, so a subclass never writes through to its parent's messages
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}), **messages}
    for cls, attrs in VALIDATOR_MESSAGES.items():
        for name, text in attrs.items():
            setattr(cls, name, text)
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA_MESSAGES}
    # Integer and Float call Number's through super(): one wrap bounds both
    fields.Number._validated = _bounded_number(fields.Number._validated)
    fields.String._deserialize = _checked_string(fields.String._deserialize)
    fields.Field._baodao_installed = True
