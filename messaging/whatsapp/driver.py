"""The WhatsApp-Business-style chat driver: its codec over HTTP."""

from __future__ import annotations

from collections.abc import Mapping

from messaging.chat import ChatConfig, ChatEvent, ChatRequest, ChatResult
from messaging.transport import HttpTransport
from messaging.whatsapp.codec import WhatsAppCodec


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, config: ChatConfig) -> None:
        self.config = config
        self.codec = WhatsAppCodec(config.credentials)
        self.transport = HttpTransport(config.base_url, config.timeout_s)

    def send(self, request: ChatRequest) -> ChatResult:
        resp = self.transport.send(self.codec.send_request(request))
        return self.codec.parse_send(request.reference, resp)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, now: int) -> list[ChatEvent]:
        return self.codec.parse_webhook(self.config.app_secret, headers, body)

    def subscribe(self, params: Mapping[str, str]) -> str | None:
        return self.codec.subscribe(self.config.verify_token, params)
