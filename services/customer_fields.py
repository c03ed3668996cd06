"""Customer field values: validation and normalisation shared by chat, import and export.

Built-in fields are columns on `Customer`; custom ones live in `Customer.custom[key]`.
"""

from __future__ import annotations

from typing import Any

from chat.errors import DomainError
from models import Customer
from services.config import BusinessConfig, CustomerField
from services.limits import check_length
from services.parsing import normalize_name, normalize_phone, normalize_text

BUILTIN_COLUMNS = ("name", "industry", "region", "contact", "phone", "address")


def clean_value(field: CustomerField, raw: str) -> str:
    """The stored form of a value, or DomainError (Chinese) saying what is wrong with it."""
    value = normalize_text(raw)
    if not value:
        raise DomainError(f"「{field.label}」不能为空。")
    if field.kind == "phone":
        value = normalize_phone(value)
    if field.kind == "choice" and field.choices and value not in field.choices:
        raise DomainError(f"「{field.label}」只能是：{'、'.join(field.choices)}（收到：{value}）")
    return check_length(value, limit=field.max_length, label=field.label)


def get_value(customer: Customer, field: CustomerField) -> str | None:
    if field.key in BUILTIN_COLUMNS:
        return getattr(customer, field.key)
    return (customer.custom or {}).get(field.key)


def set_value(customer: Customer, field: CustomerField, value: str | None) -> None:
    if field.key in BUILTIN_COLUMNS:
        setattr(customer, field.key, value)
        if field.key == "name" and value:
            customer.name_norm = normalize_name(value)
        if field.key == "phone":
            customer.phone_norm = value or None
        return
    custom = dict(customer.custom or {})
    if value is None:
        custom.pop(field.key, None)
    else:
        custom[field.key] = value
    customer.custom = custom


def values_of(customer: Customer, config: BusinessConfig) -> dict[str, Any]:
    return {f.key: get_value(customer, f) for f in config.customer_fields}


def is_complete(customer: Customer, config: BusinessConfig) -> bool:
    """客户信息完整率's unit: every required and recommended field is filled."""
    return all(get_value(customer, f) for f in config.completeness_fields())


def missing_required(values: dict[str, Any], config: BusinessConfig) -> list[CustomerField]:
    return [f for f in config.required_fields() if not values.get(f.key)]
