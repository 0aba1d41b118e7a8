"""ORM models, one module per aggregate; importing this package registers them all on Base."""

from logistics.models.audit import AuditAction, AuditEntry
from logistics.models.bulk import BulkRow, BulkUpload
from logistics.models.cashup import CashUp, CashUpLine
from logistics.models.chat import ChatContact, ChatInbound, Customer, RegistrationLink
from logistics.models.dispatch import (
    DayPlan,
    PlanMode,
    PlanMove,
    PlanPickup,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanStopParcel,
    PlanUnassigned,
    StopAction,
)
from logistics.models.hold import ParcelHold
from logistics.models.jobs import JobRun
from logistics.models.manifest import (
    Manifest,
    ManifestKind,
    Scan,
    ScanKind,
    ScanResult,
    ScanSession,
)
from logistics.models.merchant import Merchant, Payout, PickupRequest
from logistics.models.notification import (
    InboundSms,
    Notification,
    NotificationStatus,
    SmsContact,
)
from logistics.models.office import Office, OfficeKind
from logistics.models.parcel import Parcel, ParcelStatus, PaymentMethod, PaymentStatus, S10Series
from logistics.models.payment import (
    AttemptStatus,
    CallbackReceipt,
    ChargeAttempt,
    LedgerEntry,
    LedgerTransaction,
    MsisdnLock,
    Obligation,
    ObligationStatus,
    PaymentLink,
    PortedNumber,
    Purpose,
    Refund,
)
from logistics.models.recipient import DeliveryPreference, RecipientCode
from logistics.models.round import (
    DeliveryProof,
    DeliveryRound,
    RoundParcel,
    RoundPlan,
    RoundPlanStatus,
    RoundPlanStop,
    RoundStatus,
    StopOutcome,
)
from logistics.models.tracking import TrackingEvent
from logistics.models.types import UTCDateTime
from logistics.models.user import ApiKey, IdempotencyKey, LoginAttempt, Role, User
from logistics.models.van import Van
from logistics.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookTry

__all__ = [
    "JobRun",
    "AuditAction",
    "AuditEntry",
    "RoundPlan",
    "PickupRequest",
    "Payout",
    "BulkRow",
    "BulkUpload",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookTry",
    "IdempotencyKey",
    "DeliveryProof",
    "RoundPlanStatus",
    "RoundPlanStop",
    "CashUp",
    "CashUpLine",
    "ParcelHold",
    "DeliveryRound",
    "RoundParcel",
    "RoundStatus",
    "StopOutcome",
    "ChatContact",
    "ChatInbound",
    "Customer",
    "RegistrationLink",
    "DeliveryPreference",
    "RecipientCode",
    "InboundSms",
    "Notification",
    "NotificationStatus",
    "SmsContact",
    "Manifest",
    "ManifestKind",
    "PlanMove",
    "Scan",
    "ScanKind",
    "ScanResult",
    "ScanSession",
    "AttemptStatus",
    "CallbackReceipt",
    "ChargeAttempt",
    "LedgerEntry",
    "LedgerTransaction",
    "MsisdnLock",
    "Obligation",
    "ObligationStatus",
    "PaymentLink",
    "PortedNumber",
    "Purpose",
    "Refund",
    "ApiKey",
    "DayPlan",
    "PlanMode",
    "PlanRoute",
    "PlanStatus",
    "PlanStop",
    "PlanStopParcel",
    "PlanPickup",
    "PlanUnassigned",
    "StopAction",
    "LoginAttempt",
    "Merchant",
    "Office",
    "OfficeKind",
    "Parcel",
    "ParcelStatus",
    "PaymentMethod",
    "PaymentStatus",
    "Role",
    "S10Series",
    "TrackingEvent",
    "User",
    "UTCDateTime",
    "Van",
]
