"""The Banglalink driver: its codec over HTTP."""

from __future__ import annotations

from billing.drivers.banglalink.codec import BanglalinkCodec
from billing.drivers.base import CodecDriver


class BanglalinkDriver(CodecDriver):
    codec_class = BanglalinkCodec
