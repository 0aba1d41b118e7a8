"""From parcels to the plain data the document renderers take."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from logistics.documents.labels import Address, LabelData, OfficeRef
from logistics.models import ObligationStatus, Office, Parcel, Purpose
from logistics.services import obligations


def _office(o: Office) -> OfficeRef:
    return OfficeRef(o.code, o.name_en, o.name_bn, o.post_code or "")


def label_for(p: Parcel) -> LabelData:
    """What the label prints, including what the addressee actually owes at the door."""
    session = object_session(p)
    owed = obligations.of_parcel(session, p.id) if session is not None else {}
    fee, cod = owed.get(Purpose.FEE), owed.get(Purpose.COD)
    postage = {
        ObligationStatus.COLLECTED: "paid",
        ObligationStatus.ON_ACCOUNT: "on_account",
    }.get(fee.status if fee else ObligationStatus.OPEN, "unpaid")
    cod_due = 0 if cod is None or cod.status is ObligationStatus.COLLECTED else cod.amount_poisha
    return LabelData(
        tracking_id=p.tracking_id,
        service=p.service,
        booked_at=p.created_at,
        sender=Address(p.sender_name, p.sender_phone, p.sender_address),
        recipient=Address(
            p.recipient_name, p.recipient_phone, p.recipient_address, p.recipient_post_code
        ),
        origin=_office(p.origin_office),
        destination=_office(p.destination_office),
        weight_g=p.weight_g,
        postage_poisha=p.fee_poisha,
        cod_to_collect_poisha=cod_due,
        postage=postage,
        cod_paid=cod is not None and cod.status is ObligationStatus.COLLECTED,
    )
