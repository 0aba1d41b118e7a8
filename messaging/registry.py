"""Driver discovery: every SMS gateway driver, built-in or not, is registered under the entry
point group ``dakghor.messaging.sms`` (name = gateway id, value = a class taking a
GatewayConfig); every chat channel under ``dakghor.messaging.chat`` (a class taking a
ChatConfig)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from messaging.chat import ChatChannel, ChatConfig
from messaging.gateway import DriverNotFound, GatewayConfig, SmsGateway

GROUP = "dakghor.messaging.sms"
CHAT_GROUP = "dakghor.messaging.chat"
Factory = Callable[[GatewayConfig], SmsGateway]


def available() -> dict[str, Factory]:
    """Gateway id -> driver class, from the installed entry points."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def load(name: str, config: GatewayConfig) -> SmsGateway:
    """The driver for ``name``; an unknown one is a clear error naming those installed."""
    classes = available()
    if name not in classes:
        raise DriverNotFound(
            f"no SMS gateway driver registered for {name!r} (have: {', '.join(sorted(classes))})"
        )
    return classes[name](config)


def load_chat(name: str, config: ChatConfig) -> ChatChannel:
    """The chat channel for ``name``; an unknown one is a clear error naming those installed."""
    classes = {ep.name: ep.load() for ep in entry_points(group=CHAT_GROUP)}
    if name not in classes:
        raise DriverNotFound(
            f"no chat channel registered for {name!r} (have: {', '.join(sorted(classes))})"
        )
    channel: ChatChannel = classes[name](config)
    return channel
