"""What people read for the system's internal values: every enum, operator, ledger account and
reconciliation outcome has a translated label, so no raw value like 'succeeded' reaches a page."""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import LazyString

from logistics.i18n import _l, is_bn
from logistics.models import (
    AttemptStatus,
    AuditAction,
    ManifestKind,
    NotificationStatus,
    ObligationStatus,
    OfficeKind,
    ParcelStatus,
    PaymentMethod,
    PaymentStatus,
    PlanMode,
    PlanStatus,
    Purpose,
    Role,
    RoundStatus,
    ScanKind,
    ScanResult,
    StopAction,
    StopOutcome,
)


class _ByType(dict[tuple[type, str], LazyString]):
    """Labels keyed by enum member. StrEnum members of different enums that share a value
    ('pending' is a payment status and an attempt status) are equal and hash alike, so each
    is kept under (its type, its value)."""

    def __init__(self, labels: tuple[tuple[Any, LazyString], ...]) -> None:
        super().__init__()
        for member, text in labels:
            self[(type(member), member.value)] = text

    def __getitem__(self, member: Any) -> LazyString:
        return super().__getitem__((type(member), member.value))

    def get(self, member: Any, default: Any = None) -> Any:
        return super().get((type(member), member.value), default)


_LABELS: tuple[tuple[Any, LazyString], ...] = (
    (ParcelStatus.BOOKED, _l("Booked")),
    (ParcelStatus.ACCEPTED, _l("Accepted at the counter")),
    (ParcelStatus.IN_TRANSIT, _l("In transit")),
    (ParcelStatus.AT_DELIVERY_OFFICE, _l("At the delivery office")),
    (ParcelStatus.OUT_FOR_DELIVERY, _l("Out for delivery")),
    (ParcelStatus.DELIVERED, _l("Delivered")),
    (ParcelStatus.DELIVERY_FAILED, _l("Delivery attempt failed")),
    (ParcelStatus.HELD, _l("Held at the delivery office for collection")),
    (ParcelStatus.RETURNING, _l("Being returned to the sender")),
    (ParcelStatus.RETURNED, _l("Returned to sender")),
    (ParcelStatus.CANCELLED, _l("Booking cancelled")),
    (PaymentMethod.CASH, _l("Cash")),
    (PaymentMethod.AIRTIME, _l("Airtime")),
    (PaymentMethod.MERCHANT_ACCOUNT, _l("Merchant's account")),
    (NotificationStatus.QUEUED, _l("Waiting to be sent")),
    (NotificationStatus.SENDING, _l("Being sent")),
    (NotificationStatus.SENT, _l("Sent")),
    (NotificationStatus.DELIVERED, _l("Received by the phone")),
    (NotificationStatus.FAILED, _l("Not delivered")),
    (NotificationStatus.SUPPRESSED, _l("Not sent: the number asked for no messages")),
    (PaymentStatus.PAID, _l("Paid")),
    (PaymentStatus.PENDING, _l("Not paid yet")),
    (PaymentStatus.INVOICED, _l("Invoiced to the merchant")),
    (Purpose.FEE, _l("Postage")),
    (Purpose.COD, _l("Cash on delivery")),
    (Purpose.RETURN, _l("Return fee")),
    (AttemptStatus.CREATED, _l("Started")),
    (AttemptStatus.CONSENT_SENT, _l("Waiting for the code")),
    (AttemptStatus.CONSENT_VERIFIED, _l("Code confirmed")),
    (AttemptStatus.CHARGING, _l("Being charged")),
    (AttemptStatus.PENDING, _l("Waiting for the operator")),
    (AttemptStatus.SUCCEEDED, _l("Paid")),
    (AttemptStatus.FAILED, _l("Not paid")),
    (AttemptStatus.REFUNDED, _l("Refunded")),
    (AttemptStatus.PARTIALLY_REFUNDED, _l("Partly refunded")),
    (ObligationStatus.OPEN, _l("To be paid")),
    (ObligationStatus.HELD, _l("Being paid")),
    (ObligationStatus.COLLECTED, _l("Paid")),
    (ObligationStatus.ON_ACCOUNT, _l("On the merchant's account")),
    (ObligationStatus.CANCELLED, _l("Cancelled: the parcel went back")),
    (OfficeKind.INTAKE, _l("Intake office")),
    (OfficeKind.DELIVERY, _l("Delivery office")),
    (OfficeKind.HUB, _l("Sorting hub")),
    (PlanStatus.PLANNING, _l("Being planned")),
    (PlanStatus.DRAFT, _l("Draft")),
    (PlanStatus.PUBLISHED, _l("Published")),
    (PlanStatus.CLOSED, _l("Closed")),
    (PlanStatus.FAILED, _l("Planning failed")),
    (PlanStatus.SUPERSEDED, _l("Replaced by a later version")),
    (PlanMode.VAN_DAY, _l("Direct van day")),
    (PlanMode.HUB_AND_SPOKE, _l("Hub and spoke")),
    (StopAction.LOAD, _l("Load")),
    (StopAction.DROP, _l("Drop")),
    (ManifestKind.ROUTE, _l("Van route sheet")),
    (ManifestKind.DISPATCH, _l("Dispatch form")),
    (ManifestKind.RECEIPT, _l("Receipt form")),
    (ScanKind.LOAD, _l("Load-out")),
    (ScanKind.ARRIVAL, _l("Arrival")),
    (ScanResult.OK, _l("OK")),
    (ScanResult.DUPLICATE, _l("Already scanned")),
    (ScanResult.WRONG_VAN, _l("Wrong van")),
    (ScanResult.WRONG_OFFICE, _l("Not for this office")),
    (ScanResult.UNKNOWN, _l("Unknown parcel")),
    (ScanResult.BAD_ID, _l("Not a valid tracking number")),
    (Role.CLERK, _l("Counter clerk")),
    (Role.COURIER, _l("Postman")),
    (StopOutcome.PENDING, _l("To deliver")),
    (StopOutcome.DELIVERED, _l("Delivered")),
    (StopOutcome.FAILED, _l("Not delivered")),
    (RoundStatus.LOADING, _l("Being loaded")),
    (RoundStatus.OUT, _l("Out for delivery")),
    (RoundStatus.CLOSED, _l("Round closed")),
    (Role.PLANNER, _l("Dispatch planner")),
    (Role.MERCHANT, _l("Merchant")),
    (Role.ADMIN, _l("Administrator")),
    (AuditAction.USER_CREATED, _l("Login created")),
    (AuditAction.USER_TURNED_OFF, _l("Login turned off")),
    (AuditAction.USER_TURNED_ON, _l("Login turned on")),
    (AuditAction.PASSWORD_RESET, _l("Password reset to a temporary one")),
    (AuditAction.PASSWORD_CHANGED, _l("Password changed by its owner")),
    (AuditAction.PASSWORD_SET, _l("Password set on the command line")),
    (AuditAction.KEY_ISSUED, _l("API key issued")),
    (AuditAction.KEY_REVOKED, _l("API key revoked")),
    (AuditAction.OFFICE_PHONE, _l("Office phone set")),
    (AuditAction.PAYOUT, _l("Payout recorded")),
)
LABELS = _ByType(_LABELS)

# Plain strings the services use: operators, reconciliation, refunds and ledger accounts.
WORDS: dict[str, LazyString] = {
    "grameenphone": _l("Grameenphone"),
    "robi": _l("Robi"),
    "banglalink": _l("Banglalink"),
    "teletalk": _l("Teletalk"),
    "charge": _l("Charge"),
    "refund": _l("Refund"),
    "matched": _l("Matched"),
    "missing_in_dakghor": _l("Missing in DakGhor"),
    "missing_at_operator": _l("Missing at the operator"),
    "amount_mismatch": _l("Amounts differ"),
    "status_mismatch": _l("Statuses differ"),
    "duplicate_collection": _l("Collected twice"),
    "succeeded": _l("Succeeded"),
    "failed": _l("Failed"),
    "pending": _l("Pending"),
    "refunded": _l("Refunded"),
    "partially_refunded": _l("Partly refunded"),
    "requested": _l("Requested"),
    "postage_revenue": _l("Postage revenue"),
    "cod_fee_revenue": _l("COD fee revenue"),
    "sender_payable": _l("Owed to senders (COD)"),
    "merchant_payable": _l("Owed to merchant (COD)"),
    "operator_receivable": _l("Owed by operator"),
    "operator_fees": _l("Operator's share"),
    "vat_input": _l("VAT on operators' share"),
    # A van's stop on the live board.
    "done": _l("Done"),
    "due": _l("Due"),
    "late": _l("Late"),
    "skipped": _l("Skipped"),
}

# Why a payment did not go through, by the stable error code (never the operator's English).
REASONS: dict[str, LazyString] = {
    "insufficient_balance": _l("Not enough airtime balance."),
    "not_subscriber": _l("No operator serves this number."),
    "invalid_msisdn": _l("No operator serves this number."),
    "unknown_operator": _l("No operator serves this number."),
    "wrong_otp": _l("The code was wrong three times."),
    "otp_expired": _l("The code expired."),
    "consent_invalid": _l("The payment was not approved."),
    "consent_rejected": _l("The payment was not approved."),
    "limit_exceeded": _l("Over the airtime spending limit."),
    "cap_reached": _l("Over the airtime spending limit."),
    "cap_exceeded": _l("Over the airtime spending limit."),
    "operator_unavailable": _l("The operator could not be reached."),
    "operator_error": _l("The operator could not be reached."),
    "transport_error": _l("The operator could not be reached."),
    "timeout": _l("The operator could not be reached."),
    "cancelled": _l("Cancelled by the payer."),
    "expired": _l("Not confirmed in time."),
    "duplicate_collection": _l("This sum had already been paid; this charge is refunded."),
}


# Why a delivery attempt failed, by its code (UPU-style non-delivery reasons; what the recipient
# is told, after "today:").
DELIVERY_FAILURES: dict[str, LazyString] = {
    "absent": _l("nobody was at home"),
    "address": _l("the address could not be found"),
    "refused": _l("the parcel was refused"),
    "unreachable": _l("your phone did not answer"),
    "cod_not_ready": _l("the cash on delivery was not ready"),
    "later": _l("you asked for another day"),
    "unsafe": _l("it was not safe to deliver"),
    "other": _l("it could not be handed over"),
}


# Why a parcel goes back to its sender (services.returns), as the sender's SMS says it.
RETURN_REASONS: dict[str, LazyString] = {
    "attempts": _l("it could not be delivered after every attempt"),
    "not_collected": _l("it was not collected in time"),
    "refused": _l("the recipient refused it"),
    "address": _l("the address could not be found"),
    "unsafe": _l("it was not safe to deliver"),
    "sender": _l("you asked for it back"),
}


# What a merchant's webhook endpoint may be sent (services.webhooks.TYPES), as the portal says it.
WEBHOOK_EVENTS: dict[str, LazyString] = {
    "parcel.booked": _l("Parcel booked"),
    "parcel.accepted": _l("Accepted at the counter"),
    "parcel.dispatched": _l("Dispatched"),
    "parcel.arrived": _l("Arrived at the delivery office"),
    "parcel.out_for_delivery": _l("Out for delivery"),
    "parcel.delivered": _l("Delivered"),
    "parcel.delivery_failed": _l("Delivery attempt failed"),
    "parcel.held": _l("Held for collection"),
    "parcel.returning": _l("Being returned to the sender"),
    "parcel.returned": _l("Returned to sender"),
    "parcel.cancelled": _l("Booking cancelled"),
    "cod.collected": _l("Cash on delivery collected"),
    "payment.refunded": _l("Payment refunded"),
    "payout.made": _l("Payout made"),
}
WEBHOOK_STATES: dict[str, LazyString] = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Gave up after a day"),
}


def hook_state(code: str) -> str:
    return str(WEBHOOK_STATES.get(code, code))


def plan_error(error: str | None) -> str:
    """A failed plan's error in the reader's words: its worker died, the queue was down, or
    an error of the program, whose own (English) words the page keeps apart, as technical
    details for whoever is asked to look into it (``plan_error_is_ours``)."""
    if not error:
        return ""
    return _our_plan_error(error) or str(
        _l("An unexpected error stopped it; its technical details are below.")
    )


def plan_error_is_ours(error: str | None) -> bool:
    """Whether ``plan_error`` says all there is (no technical details to show)."""
    return not error or bool(_our_plan_error(error))


def _our_plan_error(error: str) -> str:
    """The words for an error the jobs themselves set (a dead worker, the queue down), or ""."""
    from logistics.services.liveness import QUEUE_DOWN, STOPPED

    if error == STOPPED:
        return str(
            _l("Its worker stopped without an answer (it was killed, or its machine stopped).")
        )
    if error.startswith(QUEUE_DOWN):
        return str(_l("The job queue could not be reached."))
    return ""


# The worker's periodic jobs, by their Celery task (logistics/jobs.py's beat).
JOB_NAMES: dict[str, LazyString] = {
    "dakghor.payments.sweep": _l("Payments left open settled, attempts past their deadline ended"),
    "dakghor.returns.sweep": _l("Held parcels past their last day sent back"),
    "dakghor.api.purge_keys": _l("The API's idempotency keys older than a day forgotten"),
    "dakghor.webhooks.sweep": _l("Webhook deliveries that are due sent"),
    "dakghor.jobs.sweep": _l("Bulk uploads whose job stopped queued again"),
    "dakghor.sms.sweep": _l("Messages that are due sent, late receipts asked for"),
}


def job_name(task: str) -> str:
    return str(JOB_NAMES.get(task, task))


# Why a webhook call got no answer, by its code (webhook_delivery.error_kind); the try's log
# keeps the technical words.
HOOK_ERRORS: dict[str, LazyString] = {
    "timeout": _l("No answer in time"),
    "refused": _l("The connection was refused"),
    "reset": _l("The connection was cut"),
    "dns": _l("The address's name was not found"),
    "tls": _l("The secure connection failed"),
    "address": _l("The address is not allowed"),
    "disabled": _l("The endpoint is turned off"),
    "network": _l("Could not connect"),
}


def hook_error(code: str | None) -> str:
    """A webhook call's failure in words (a code not known, as deliveries recorded before the
    codes wrote the error itself, reads "Could not connect")."""
    if not code:
        return ""
    return str(HOOK_ERRORS.get(code, HOOK_ERRORS["network"]))


# A postman's vehicle, by its code (logistics.services.rounds.VEHICLES).
VEHICLE_NAMES: dict[str, LazyString] = {
    "foot": _l("On foot"),
    "bicycle": _l("Bicycle"),
    "motorbike": _l("Motorbike"),
    "van": _l("Van"),
}


# Where a delivery point came from, from the most precise.
PRECISION: dict[str, LazyString] = {
    "pin": _l("the recipient's pin"),
    "area": _l("the area chosen"),
    "post_code": _l("the post code's point"),
    "office": _l("the office (no point known)"),
}


def precision(code: str) -> str:
    return str(PRECISION.get(code, PRECISION["office"]))


# Why the van plan left a parcel over, by the routing core's reason code.
LEFT_OVER: dict[str, LazyString] = {
    "too_big": _l("Too big for every van it may ride."),
    "window": _l("Its office cannot be reached within any van's shift."),
    "pair": _l("Its pickup and drop cannot both fit any van's shift and office hours."),
    "pinned_locked": _l("Moved to a van whose route is locked."),
    "late_when_timed": _l("Would arrive late with the day's traffic."),
    "no_room": _l("No room left in the vans today."),
}


# Why an SMS did not reach the phone (or is being tried again), by its stable code.
SMS_REASONS: dict[str, LazyString] = {
    "invalid_number": _l("The network does not know this number."),
    "undelivered": _l("The network could not deliver it."),
    "timeout": _l("The SMS gateway did not answer in time."),
    "transport_error": _l("The SMS gateway could not be reached."),
    "refused": _l("The SMS gateway refused it."),
    "unauthorized": _l("The SMS gateway refused our credentials."),
}


def sms_reason(code: str | None) -> str:
    if not code:
        return ""
    return str(SMS_REASONS.get(code, SMS_REASONS["refused"]))


def left_over(code: str) -> str:
    return str(LEFT_OVER.get(code, LEFT_OVER["no_room"]))


def reason(code: str | None) -> str:
    if not code:
        return "–"
    return str(REASONS.get(code, _l("The operator declined the payment.")))


def event(code: str) -> str:
    """A tracking event code (EMA, EMI…) as the reader's language says it."""
    from logistics.services.tracking import EVENTS

    ev = EVENTS.get(code)
    return str(ev.text) if ev is not None else "–"


def label(value: Any) -> str:
    """The translated label of an enum member or a known word; a ledger account such as
    'operator_receivable:robi' reads 'Owed by operator · Robi'. Unknown values show a dash
    rather than leak an internal name."""
    if value is None or value == "":
        return "–"
    if isinstance(value, enum.Enum):
        found = LABELS.get(value)
        return str(found) if found is not None else "–"
    text = str(value)
    if text in WORDS:
        return str(WORDS[text])
    head, sep, tail = text.partition(":")
    if sep and head in WORDS:
        return f"{WORDS[head]} · {WORDS.get(tail, tail)}"
    try:
        return str(LABELS[AttemptStatus(text)])  # an attempt's status kept as text
    except ValueError:
        return "–"


def name(obj: Any) -> str:
    """An office's (or anything with name_bn/name_en) name in the current language."""
    return str(obj.name_bn if is_bn() else obj.name_en)
