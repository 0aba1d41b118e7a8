"""Carrier-billing configuration from the environment (secrets never live in the repository).

In the embedded demo (DAKGHOR_DEMO=1) the drivers fall back to the local operator simulator
and its demo credentials; anywhere else each operator needs its DAKGHOR_DCB_* variables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from billing import registry
from billing.caps import Caps
from billing.driver import DriverConfig
from billing.ledger import FeeTerms
from billing.money import Money
from logistics.services.payments import PaymentSettings

DEMO_CREDENTIALS = {  # the local simulator's demo credentials (billing/simulator/server.py Config)
    "grameenphone": {"client_id": "dakghor", "client_secret": "gp-demo-secret"},
    "robi": {"api_key": "robi-demo-key"},
    "banglalink": {"key_id": "dakghor", "secret": "bl-demo-secret"},
    "teletalk": {"client_id": "dakghor", "client_secret": "tt-demo-secret"},
}
ENV = {
    "grameenphone": {
        "client_id": "DAKGHOR_DCB_GP_CLIENT_ID",
        "client_secret": "DAKGHOR_DCB_GP_CLIENT_SECRET",
    },
    "robi": {"api_key": "DAKGHOR_DCB_ROBI_API_KEY"},
    "banglalink": {"key_id": "DAKGHOR_DCB_BL_KEY_ID", "secret": "DAKGHOR_DCB_BL_SECRET"},
    "teletalk": {
        "client_id": "DAKGHOR_DCB_TT_CLIENT_ID",
        "client_secret": "DAKGHOR_DCB_TT_CLIENT_SECRET",
    },
}


def _caps(env: Mapping[str, str]) -> dict[str, Caps]:
    """DAKGHOR_DCB_CAPS='{"robi": {"monthly": "1500.00"}}' overrides the Bangladesh Bank defaults."""
    raw = json.loads(env.get("DAKGHOR_DCB_CAPS", "{}") or "{}")
    out = {}
    for operator, caps in raw.items():
        base = Caps()
        out[operator] = Caps(
            **{
                k: Money.taka(str(caps.get(k, getattr(base, k).decimal_str())))
                for k in ("per_transaction", "daily", "monthly", "yearly")
            }
        )
    return out


def settings_from_env(demo: bool, env: Mapping[str, str] | None = None) -> PaymentSettings:
    env = env if env is not None else os.environ
    base = env.get("DAKGHOR_DCB_URL") or (
        f"http://127.0.0.1:{env.get('SIM_PORT', '5001')}" if demo else ""
    )
    secret = env.get("DAKGHOR_DCB_CALLBACK_SECRET") or ("callback-demo-secret" if demo else "")
    configs = {}
    for operator, keys in ENV.items():
        creds = {k: env.get(var, "") for k, var in keys.items()}
        if not all(creds.values()):
            if not demo:
                continue  # not configured: that operator's customers cannot pay by airtime
            creds = DEMO_CREDENTIALS[operator]
        if base:
            configs[operator] = DriverConfig(
                base, creds, secret, float(env.get("DAKGHOR_DCB_TIMEOUT_S", "5"))
            )
    terms = {
        op: FeeTerms(
            int(env.get("DAKGHOR_DCB_SHARE_BP", "1500")), int(env.get("DAKGHOR_DCB_VAT_BP", "1500"))
        )
        for op in configs
    }
    return PaymentSettings(drivers=registry.load(configs), caps=_caps(env), terms=terms)
