"""The channels a message leaves by, behind one interface: ``send(config, outgoing)``.

Each raises :class:`ChannelError` on failure, saying whether retrying can help; anything else
it raises is treated as a passing fault by the delivery worker. HTTP goes through
``common.outbound`` (http(s) only, no internal addresses unless allow-listed, connect and read
timeouts, no redirects), so a receiver that hangs costs one greenthread for a few seconds, never
the service, and a configured URL cannot probe the intranet: every way of not reaching the
receiver is the same error.
"""

import json
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

from common import outbound
from services.notify import domain

DEFAULT_TIMEOUT = 5.0
UNREACHABLE = "无法连接接收方或接收方未及时响应"  # one text for refused, unreachable, not allowed, timed out


@dataclass
class Outgoing:
    kind: str
    title: str
    body: str
    dedup_key: str
    address: str | None = None  # phone or e-mail for a person's channels
    data: dict = field(default_factory=dict)


class ChannelError(Exception):
    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel:
    name = ""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = timeout

    def send(self, config: dict, message: Outgoing) -> None:
        raise NotImplementedError

    def _post(self, url: str, payload: dict, headers: dict | None = None, body: bytes | None = None):
        data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode()
        try:
            resp = outbound.post(url, data=data, connect_timeout=min(3.0, self.timeout), read_timeout=self.timeout,
                                 headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
        except outbound.Unreachable:
            raise ChannelError(f"{self.name}: {UNREACHABLE}") from None
        if resp.status_code >= 300:
            raise ChannelError(f"{self.name}: 接收方返回 HTTP {resp.status_code}：{resp.text[:200]}",
                               permanent=domain.is_permanent_status(resp.status_code))
        return resp


class RobotChannel(Channel):
    """Group-chat robots (WeCom 企业微信, DingTalk 钉钉): a JSON text message, ``errcode`` 0 on success."""

    def payload(self, message: Outgoing) -> dict:
        return {"msgtype": "text", "text": {"content": f"{message.title}\n{message.body}"}}

    def url(self, config: dict) -> str:
        return config["url"]

    def send(self, config, message):
        resp = self._post(self.url(config), self.payload(message))
        try:
            answer = resp.json()
        except ValueError:
            raise ChannelError(f"{self.name}: 接收方的回答不是 JSON") from None
        if answer.get("errcode", 0) != 0:
            # e.g. 45009 rate limit: worth retrying; a wrong key is too, staff may fix the setting
            raise ChannelError(f"{self.name}: 机器人返回错误 {answer.get('errcode')}：{answer.get('errmsg', '')}")


class WeComChannel(RobotChannel):
    name = "wecom"


class DingTalkChannel(RobotChannel):
    name = "dingtalk"

    def url(self, config):
        if not config.get("secret"):
            return config["url"]
        ts = int(time.time() * 1000)
        joiner = "&" if "?" in config["url"] else "?"
        return f"{config['url']}{joiner}timestamp={ts}&sign={domain.dingtalk_sign(config['secret'], ts)}"


class WebhookChannel(Channel):
    """Signed webhooks for other systems: HMAC-SHA256 over the timestamp and the raw body.

    Receivers check ``X-Baodao-Signature`` and deduplicate on ``X-Baodao-Delivery``, which stays
    the same on every retry of one delivery.
    """

    name = "webhook"

    def send(self, config, message):
        body = json.dumps({"kind": message.kind, "title": message.title, "body": message.body,
                           "delivery": message.dedup_key, "data": message.data},
                          ensure_ascii=False, sort_keys=True).encode()
        ts = str(int(time.time()))
        self._post(config["url"], {}, body=body, headers={
            "X-Baodao-Timestamp": ts,
            "X-Baodao-Signature": domain.webhook_signature(config["secret"], ts, body),
            "X-Baodao-Delivery": message.dedup_key,
            "X-Baodao-Event": message.kind,
        })


class SmsChannel(Channel):
    """An SMS gateway over HTTP: ``{"phone", "content", "sign_name", "request_id"}``."""

    name = "sms"

    def send(self, config, message):
        if not message.address:
            raise ChannelError("sms: 收件人未设置手机号", permanent=True)
        headers = {"Authorization": f"Bearer {config['api_key']}"} if config.get("api_key") else {}
        sign = config.get("sign_name") or "宝岛"
        resp = self._post(config["url"], {"phone": message.address, "content": f"【{sign}】{message.body}",
                                          "request_id": message.dedup_key}, headers=headers)
        try:
            answer = resp.json()
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("code") not in (None, 0, "0", "OK", "ok"):
            raise ChannelError(f"sms: 短信网关拒绝：{answer.get('code')} {answer.get('message', '')}")


class EmailChannel(Channel):
    name = "email"

    def send(self, config, message):
        if not message.address:
            raise ChannelError("email: 收件人未设置邮箱", permanent=True)
        mail = EmailMessage()
        mail["From"] = config["sender"]
        mail["To"] = message.address
        mail["Subject"] = message.title
        mail["Message-ID"] = f"<{uuid.uuid5(uuid.NAMESPACE_URL, message.dedup_key)}@baodao>"
        mail.set_content(message.body)
        try:
            outbound.check_host(str(config["host"]), int(config["port"]))
        except outbound.NotAllowed:
            raise ChannelError(f"email: {UNREACHABLE}") from None
        try:
            with smtplib.SMTP(config["host"], int(config["port"]), timeout=self.timeout) as smtp:
                if config.get("starttls"):
                    smtp.starttls()
                if config.get("username"):
                    smtp.login(config["username"], config.get("password") or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused:
            raise ChannelError("email: 邮件服务器拒收该地址", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"email: 发送失败（{type(exc).__name__}: {str(exc)[:120]}）") from None


CHANNEL_CLASSES = {c.name: c for c in (SmsChannel, EmailChannel, WeComChannel, DingTalkChannel, WebhookChannel)}


def channel_for(name: str, timeout: float = DEFAULT_TIMEOUT) -> Channel:
    cls = CHANNEL_CLASSES.get(name)
    if cls is None:
        # not permanent: a newer instance of the service may know it; operators see the reason
        raise ChannelError(f"未知渠道：{name}")
    return cls(timeout)
