"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the
seeded Dhaka network with demo accounts, and the app with its client and CLI runner."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import case, delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import create_app
from logistics import migrate
from logistics.db import make_engine, make_sessionmaker
from logistics.i18n import compile_catalogs
from logistics.models import (
    ApiKey,
    AuditEntry,
    BulkRow,
    BulkUpload,
    CallbackReceipt,
    CashUp,
    CashUpLine,
    ChargeAttempt,
    ChatContact,
    ChatInbound,
    Customer,
    DayPlan,
    DeliveryPreference,
    DeliveryProof,
    DeliveryRound,
    IdempotencyKey,
    InboundSms,
    JobRun,
    LedgerEntry,
    LedgerTransaction,
    LoginAttempt,
    Manifest,
    Merchant,
    MsisdnLock,
    Notification,
    Obligation,
    Office,
    Parcel,
    ParcelHold,
    PaymentLink,
    Payout,
    PickupRequest,
    PlanMove,
    PlanPickup,
    PlanRoute,
    PlanStop,
    PlanStopParcel,
    PlanUnassigned,
    PortedNumber,
    RecipientCode,
    Refund,
    RegistrationLink,
    Role,
    RoundParcel,
    RoundPlan,
    RoundPlanStop,
    S10Series,
    Scan,
    ScanSession,
    SmsContact,
    TrackingEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookTry,
)
from logistics.services import accounts, demo, network, serials

DEMO_KEY = demo.DEMO_MERCHANT_KEY


# The .mo files are built, not kept in git: the app builds them where they are missing or stale
# (logistics.i18n.compile_catalogs); built here too, before any test imports a catalog.
compile_catalogs()


def _reset_database(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'dakghor-test.sqlite3'}"
    _reset_database(url)
    # Up, down and up again: both directions of every migration run on the target database.
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


SEED_PASSWORDS: dict[int, str] = {}  # the demo logins' password hashes, put back after each test


@pytest.fixture(scope="session")
def seeded(engine: Engine) -> dict[str, int]:
    """Network and demo accounts, once per run; returns the highest ids that belong to the seed."""
    with make_sessionmaker(engine)() as s:
        network.seed_network(s)
        demo.seed_demo(s)
        s.commit()
        SEED_PASSWORDS.update((uid, h) for uid, h in s.execute(select(User.id, User.password_hash)))
        return {
            "user": s.scalar(select(func.max(User.id))) or 0,
            "merchant": s.scalar(select(func.max(Merchant.id))) or 0,
            "api_key": s.scalar(select(func.max(ApiKey.id))) or 0,
        }


@pytest.fixture
def db(engine: Engine, seeded: dict[str, int]) -> Iterator[Session]:
    """A session on a database holding only the seed; whatever a test adds is removed after it."""
    session = make_sessionmaker(engine)()
    yield session
    session.rollback()
    for table in (
        AuditEntry,
        JobRun,
        PlanPickup,
        PickupRequest,
        Payout,
        BulkRow,
        BulkUpload,
        WebhookTry,
        WebhookDelivery,
        WebhookEvent,
        WebhookEndpoint,
        IdempotencyKey,
        DeliveryProof,
        RoundPlanStop,
        RoundPlan,
        CashUpLine,
        CashUp,
        ParcelHold,
        RoundParcel,
        DeliveryRound,
        Notification,
        SmsContact,
        InboundSms,
        ChatInbound,
        ChatContact,
        Customer,
        RegistrationLink,
        RecipientCode,
        DeliveryPreference,
        Scan,
        ScanSession,
        Manifest,
        PlanMove,
        PlanStopParcel,
        PlanStop,
        PlanRoute,
        PlanUnassigned,
        DayPlan,
        Obligation,
        LedgerEntry,
        LedgerTransaction,
        CallbackReceipt,
        Refund,
        ChargeAttempt,
        PaymentLink,
        PortedNumber,
        MsisdnLock,
        LoginAttempt,
    ):
        session.execute(delete(table))
    session.execute(delete(TrackingEvent))
    session.execute(delete(Parcel))
    session.execute(delete(S10Series))
    serials.BLOCKS.forget()  # blocks of the serials just deleted
    session.execute(update(Office).values(phone=None))
    # What the admin's pages may change in the seed (the hostile-input sweep presses them).
    session.execute(
        update(User).values(
            vehicle=None, shift_start=None, shift_end=None, active=True, must_change_password=False
        )
    )
    if SEED_PASSWORDS:  # an admin's reset, or a person's change, of a demo login's password
        session.execute(
            update(User)
            .where(User.id.in_(SEED_PASSWORDS))
            .values(password_hash=case(SEED_PASSWORDS, value=User.id))
        )
    session.execute(update(ApiKey).values(revoked_at=None))
    session.execute(delete(ApiKey).where(ApiKey.id > seeded["api_key"]))
    session.execute(delete(User).where(User.id > seeded["user"]))
    session.execute(delete(Merchant).where(Merchant.id > seeded["merchant"]))
    session.commit()
    session.close()


@pytest.fixture
def app(database_url: str, db: Session, tmp_path: Path) -> Iterator[Flask]:
    os.environ["DAKGHOR_INSTANCE"] = str(tmp_path / "instance")
    application = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "dakghor.test",
        }
    )
    application.test_client_class = EnglishClient
    yield application
    application.extensions["dakghor.engine"].dispose()
    application.extensions["dakghor.reader"].dispose()


class EnglishClient(FlaskClient):
    """The suite's clients ask for English (the tests read English messages); Bangla, the
    default for a caller who asks for nothing, is tested with ``bn_client``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def bn_client(app: Flask) -> FlaskClient:
    """A client that asks for no language: it gets DakGhor's default, Bangla."""
    c = app.test_client()
    del c.environ_base["HTTP_ACCEPT_LANGUAGE"]
    return c


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def merchant_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_KEY}"}


def booking(**overrides: object) -> dict[str, object]:
    """A valid API booking body; keyword arguments replace top-level fields."""
    body: dict[str, object] = {
        "origin_office": "GPO",
        "weight_g": 1200,
        "cod_amount_poisha": 0,
        "sender": {
            "name": "Demo Bazar",
            "phone": "01711000001",
            "address": "House 7, Road 2, Dhanmondi",
        },
        "recipient": {
            "name": "করিম শেখ",
            "phone": "01812345678",
            "address": "বাড়ি ২৩, রোড ১১, মোহাম্মদপুর, ঢাকা",
            "post_code": "1207",
        },
    }
    body.update(overrides)
    return body


T = TypeVar("T")


def at_once(n: int, work: Callable[[], T]) -> list[T]:
    """``work`` run by ``n`` threads released at the same moment; what each returned (an
    exception in one is raised here once all are done)."""
    gate = threading.Barrier(n, timeout=30)
    out: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        gate.wait()
        try:
            out.append(work())
        except BaseException as e:  # noqa: BLE001 - raised in the test's thread below
            failed.append(e)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise failed[0]
    return out


def second_shop(db: Session, username: str, password: str) -> User:
    """A second shop (its own e-CAB membership) with a login, committed: whom the demo shop's
    parcels, uploads and keys are refused to."""
    shop = Merchant(
        ecab_member_id="ECAB-TWIN", name="Twin Shop", phone="+8801911000000", address="x"
    )
    db.add(shop)
    db.flush()
    user = accounts.create_user(
        db, username=username, password=password, role=Role.MERCHANT, merchant=shop
    )
    db.commit()
    return user


def login(client: FlaskClient, username: str, password: str) -> None:
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, resp.data


# The operator simulator (a real server in its own process) for the payment tests.
from tests.billing.conftest import simulator  # noqa: E402,F401

# A real Celery worker and parcels waiting at intake offices, for the job and planner tests
# (the browser tests too).
from tests.logistics.conftest import waiting, worker, worker_env  # noqa: E402,F401

# The SMS gateway simulator (a real server in its own process) for the notification tests.
from tests.messaging.conftest import chat_clean, chat_sim, sms_clean, sms_sim  # noqa: E402,F401
