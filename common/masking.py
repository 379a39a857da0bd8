"""How a phone number is masked (138****8000). *Who* sees it in full is policy: ``authz.shown_phone``."""


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = str(phone)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"
