"""The Teletalk driver: its codec over HTTP."""

from __future__ import annotations

from billing.drivers.base import CodecDriver
from billing.drivers.teletalk.codec import TeletalkCodec


class TeletalkDriver(CodecDriver):
    codec_class = TeletalkCodec
