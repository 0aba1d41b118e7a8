"""The SMS gateway from the environment (secrets never live in the repository).

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

from logistics.services.sms_delivery import Gateway
from messaging import registry
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
