"""The OpenAPI 3 document, built from the route declarations and their marshmallow schemas."""

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

import authz
from gateway.http import ROUTES

TAGS = [
    ("auth", "登录与身份"),
    ("registration", "双报到：党员与单位报到、组织架构、人才库"),
    ("dispatch", "居民点单、支部下单、党员接单"),
    ("activities", "志愿活动与主题党日"),
    ("scoring", "积分、星级与季度评价"),
    ("notifications", "消息与通知"),
    ("records", "志愿服务记录：确认时长、培训、表彰、评价、投诉、星级志愿者、证明与核验"),
    ("open311", "Open311 GeoReport v2：供 12345 热线等外部系统使用"),
    ("system", "运行状态与接口文档"),
]

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "稳定的英文错误代码，如 VALIDATION_ERROR"},
        "message": {"type": "string", "description": "给人看的中文说明"},
        "fields": {"type": "object", "description": "逐字段的错误说明"},
    }}},
}


ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _schema_name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    area = cls.__module__.split(".")[-2] if "." in cls.__module__ else ""
    return f"{area.title()}{cls.__name__}".replace("Schemas", "")


def _operation_id(r) -> str:
    return f"{r.method.lower()}_" + re.sub(r"[^a-z0-9]+", "_", r.path.lower()).strip("_")


def build() -> dict:
    spec = APISpec(
        title="宝岛 Baodao：在职党员进社区双报到平台 API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": "所有错误都以统一格式返回：{\"error\": {\"code\", \"message\", \"fields\"}}。"
                             "需要登录的接口用 Authorization: Bearer <token>。"},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", ERROR_SCHEMA)
    for name, description in TAGS:
        spec.tag({"name": name, "description": description})
    paths: dict[str, dict] = {}
    for r in ROUTES:
        operation = {
            "tags": [r.tag],
            "summary": r.summary,
            "operationId": _operation_id(r),
            "responses": {
                str(r.status): {"description": "成功",
                                "content": {"application/json": {"schema": r.response or {"type": "object"}}}},
                "default": {"description": "错误", "content": ERROR_BODY},
            },
            # from the one policy table (authz/table.py), as the gateway and the services enforce it
            "x-roles": list(r.roles) or ["public"],
            "x-action": r.action,
            "x-scopes": {role: list(scopes) for role, scopes in authz.POLICY.rules(r.action).items()},
        }
        if r.description:
            operation["description"] = r.description
        if r.roles:
            operation["security"] = [{"bearer": []}]
            operation["responses"]["401"] = {"description": "未登录或凭证过期", "content": ERROR_BODY}
        parameters = [
            {"in": "path", "name": name, "required": True,
             "schema": {"type": "integer" if name.endswith("id") else "string"}}
            for name in re.findall(r"\{(\w+)\}", r.path)
        ]
        if r.query:
            parameters.append({"in": "query", "schema": r.query})
        if parameters:
            operation["parameters"] = parameters
        if r.body:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": r.body}}}
        paths.setdefault(r.path, {})[r.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def main():
    """``python -m gateway.openapi`` prints the document: the web build generates its API types
    from it without a running server."""
    import json
    import sys

    import gateway.service  # noqa: F401  (declares every route)

    json.dump(build(), sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
