"""The SMS gateway and the chat channel from the environment (secrets never live in the repository).

    DAKGHOR_SMS_GATEWAY      the driver (entry point group dakghor.messaging.sms), default isms
    DAKGHOR_SMS_URL          its base URL (the demo: the local simulator on SMS_SIM_PORT, 5002)
    DAKGHOR_SMS_API_TOKEN, DAKGHOR_SMS_SID   its credentials
    DAKGHOR_SMS_PUSH_SECRET  the key its receipts and inbound messages are signed with
    DAKGHOR_SMS_TIMEOUT_S    one request's timeout (sends run in jobs: default 10)

Without DAKGHOR_SMS_URL outside the demo there is no gateway: messages wait in the outbox
(the admin's SMS page says so) until one is configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from logistics.services.sms_delivery import ChatGateway, Gateway
from messaging import registry
from messaging.chat import ChatConfig
from messaging.gateway import GatewayConfig

DEMO = {"api_token": "sms-demo-token", "sid": "DAKGHOR", "push_secret": "sms-push-demo-secret"}


def gateway_from_env(demo: bool, env: Mapping[str, str] | None = None) -> Gateway | None:
    env = os.environ if env is None else env
    url = env.get("DAKGHOR_SMS_URL", "")
    if not url and demo:
        url = f"http://127.0.0.1:{env.get('SMS_SIM_PORT', '5002')}"
    if not url:
        return None
    name = env.get("DAKGHOR_SMS_GATEWAY", "isms")

    def pick(key: str) -> str:
        return env.get(f"DAKGHOR_SMS_{key.upper()}", DEMO[key] if demo else "")

    config = GatewayConfig(
        base_url=url,
        credentials={"api_token": pick("api_token"), "sid": pick("sid")},
        callback_secret=pick("push_secret"),
        timeout_s=float(env.get("DAKGHOR_SMS_TIMEOUT_S", "10")),
    )
    return Gateway(name, registry.load(name, config))


CHAT_DEMO = {
    "token": "chat-demo-token",
    "phone_number_id": "100200300",
    "app_secret": "chat-demo-secret",
    "verify_token": "chat-demo-verify",
}


def chat_from_env(demo: bool, env: Mapping[str, str] | None = None) -> ChatGateway | None:
    """The chat channel (a WhatsApp-Business-style provider):

    DAKGHOR_CHAT_PROVIDER        the driver (entry point group dakghor.messaging.chat), default
                                 whatsapp
    DAKGHOR_CHAT_URL             its base URL (the demo: the local simulator on CHAT_SIM_PORT,
                                 5003)
    DAKGHOR_CHAT_TOKEN, DAKGHOR_CHAT_PHONE_NUMBER_ID   the sending number's credentials
    DAKGHOR_CHAT_APP_SECRET      the key webhooks are signed with
    DAKGHOR_CHAT_VERIFY_TOKEN    what the provider's subscription check must show
    DAKGHOR_CHAT_TIMEOUT_S       one request's timeout (sends run in jobs: default 10)
    """
    env = os.environ if env is None else env
    url = env.get("DAKGHOR_CHAT_URL", "")
    if not url and demo:
        url = f"http://127.0.0.1:{env.get('CHAT_SIM_PORT', '5003')}"
    if not url:
        return None
    name = env.get("DAKGHOR_CHAT_PROVIDER", "whatsapp")

    def pick(key: str) -> str:
        return env.get(f"DAKGHOR_CHAT_{key.upper()}", CHAT_DEMO[key] if demo else "")

    config = ChatConfig(
        base_url=url,
        credentials={"token": pick("token"), "phone_number_id": pick("phone_number_id")},
        app_secret=pick("app_secret"),
        verify_token=pick("verify_token"),
        timeout_s=float(env.get("DAKGHOR_CHAT_TIMEOUT_S", "10")),
    )
    return ChatGateway(name, registry.load_chat(name, config))
