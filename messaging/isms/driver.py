"""The ISMS-style gateway driver: its codec over HTTP."""

from __future__ import annotations

from collections.abc import Mapping

from messaging.gateway import GatewayConfig, InboundEvent, SmsRequest, SmsResult
from messaging.isms.codec import IsmsCodec
from messaging.transport import HttpTransport


class IsmsGateway:
    name = "isms"

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.codec = IsmsCodec(config.credentials)
        self.transport = HttpTransport(config.base_url, config.timeout_s)

    def send(self, request: SmsRequest) -> SmsResult:
        resp = self.transport.send(self.codec.send_request(request))
        return self.codec.parse_send(request.reference, resp)

    def status(self, reference: str) -> SmsResult:
        resp = self.transport.send(self.codec.status_request(reference))
        return self.codec.parse_status(reference, resp)

    def parse_push(self, headers: Mapping[str, str], body: bytes, now: int) -> InboundEvent:
        return self.codec.parse_push(
            self.config.callback_secret, headers, body, now, self.config.callback_tolerance_s
        )
