"""The Grameenphone driver: its codec over HTTP."""

from __future__ import annotations

from billing.drivers.base import CodecDriver
from billing.drivers.grameenphone.codec import GrameenphoneCodec


class GrameenphoneDriver(CodecDriver):
    codec_class = GrameenphoneCodec
