"""How a phone number is masked (138****8000). *Who* sees it in full is policy: ``authz.shown_phone``."""


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = str(phone)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def mask_id_number(id_number: str | None) -> str:
    """What a volunteer certificate prints of an ID number: the first four and last four characters."""
    value = (id_number or "").strip().upper()
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)
