"""From parcels to the plain data the document renderers take."""

from __future__ import annotations

from logistics.documents.labels import Address, LabelData, OfficeRef
from logistics.models import Office, Parcel, PaymentStatus


def _office(o: Office) -> OfficeRef:
    return OfficeRef(o.code, o.name_en, o.name_bn, o.post_code or "")


def label_for(p: Parcel) -> LabelData:
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
        cod_to_collect_poisha=p.cod_to_collect_poisha,
        paid=p.payment_status is PaymentStatus.PAID,
        payment_method=p.payment_method.value,
    )
