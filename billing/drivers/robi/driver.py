"""The Robi driver: its codec over HTTP."""

from __future__ import annotations

from billing.drivers.base import CodecDriver
from billing.drivers.robi.codec import RobiCodec


class RobiDriver(CodecDriver):
    codec_class = RobiCodec
