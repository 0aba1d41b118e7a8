-- A year of parcels for bench/bench_scale.py (PostgreSQL): each parcel of the demo day copied
-- :copies times, each copy dated a different day of the past year (1 to 365 days back), with a
-- unique S10-shaped id (ZZ…BD) and recipient number; 86 % delivered, 5 % returned, 3 %
-- cancelled, the rest delivered; each with its events (accepted, in transit, at the delivery
-- office, then delivered or a failed attempt), its obligations (postage: cash at the counter or
-- on the shop's account; COD: collected in cash if delivered) and two SMS. The demo shop's
-- parcels stay the shop's (about half), so the shop holds a year of bookings.
CREATE TEMP TABLE base AS SELECT * FROM parcels;
CREATE TEMP TABLE made AS
WITH ins AS (
INSERT INTO parcels (tracking_id, service, status, sender_name, sender_phone, sender_address,
  recipient_name, recipient_phone, recipient_address, recipient_post_code, weight_g, length_mm,
  width_mm, height_mm, declared_value_poisha, cod_amount_poisha, cod_fee_poisha, fee_poisha,
  tariff_version, payment_method, payment_status, origin_office_id, destination_office_id,
  merchant_id, merchant_reference, created_by_user_id, created_at, accepted_by_user_id,
  accepted_at, returning_since, return_reason, recipient_area)
SELECT 'ZZ' || lpad((k * 10000 + b.id)::text, 9, '0') || 'BD', b.service,
  (CASE WHEN x.r < 0.86 THEN 'delivered' WHEN x.r < 0.91 THEN 'returned' WHEN x.r < 0.94 THEN 'cancelled' ELSE 'delivered' END)::parcel_status,
  b.sender_name, b.sender_phone, b.sender_address, b.recipient_name,
  '0181' || lpad(((k * 7919 + b.id * 104729) % 10000000)::text, 7, '0'),
  b.recipient_address, b.recipient_post_code, b.weight_g, b.length_mm, b.width_mm, b.height_mm,
  b.declared_value_poisha, b.cod_amount_poisha, b.cod_fee_poisha, b.fee_poisha, b.tariff_version,
  b.payment_method, 'paid'::payment_status, b.origin_office_id, b.destination_office_id,
  b.merchant_id, CASE WHEN b.merchant_reference IS NOT NULL THEN b.merchant_reference || '-' || k END,
  b.created_by_user_id, b.created_at - make_interval(days => 1 + (k * 37 + b.id) % 365, mins => (b.id % 600)),
  b.accepted_by_user_id, b.created_at - make_interval(days => 1 + (k * 37 + b.id) % 365, mins => (b.id % 600)) + interval '1 hour',
  NULL, NULL, b.recipient_area
FROM base b CROSS JOIN generate_series(1, :copies) k CROSS JOIN LATERAL (SELECT random() + 0 * k AS r) x
RETURNING id, status, created_at, origin_office_id, destination_office_id, cod_amount_poisha, cod_fee_poisha, fee_poisha, recipient_phone, merchant_id
) SELECT * FROM ins;
INSERT INTO tracking_events (parcel_id, code, office_id, occurred_at, note)
SELECT id, 'EMA', origin_office_id, created_at + interval '1 hour', '' FROM made;
INSERT INTO tracking_events (parcel_id, code, office_id, occurred_at, note)
SELECT id, 'EMC', origin_office_id, created_at + interval '5 hour', '' FROM made;
INSERT INTO tracking_events (parcel_id, code, office_id, occurred_at, note)
SELECT id, 'EMG', destination_office_id, created_at + interval '20 hour', '' FROM made;
INSERT INTO tracking_events (parcel_id, code, office_id, occurred_at, note)
SELECT id, CASE status WHEN 'delivered' THEN 'EMI' ELSE 'EMH' END, destination_office_id, created_at + interval '26 hour', '' FROM made WHERE status <> 'cancelled';
INSERT INTO payment_obligations (parcel_id, purpose, amount_poisha, status, method, collected_at, updated_at)
SELECT id, 'fee', fee_poisha, CASE WHEN merchant_id IS NULL THEN 'collected' ELSE 'on_account' END, CASE WHEN merchant_id IS NULL THEN 'cash' ELSE 'merchant_account' END, created_at + interval '1 hour', created_at + interval '1 hour' FROM made;
INSERT INTO payment_obligations (parcel_id, purpose, amount_poisha, status, method, collected_at, updated_at)
SELECT id, 'cod', cod_amount_poisha + cod_fee_poisha, CASE WHEN status = 'delivered' THEN 'collected' ELSE 'cancelled' END, CASE WHEN status = 'delivered' THEN 'cash' END, CASE WHEN status = 'delivered' THEN created_at + interval '26 hour' END, created_at + interval '26 hour' FROM made WHERE cod_amount_poisha > 0;
INSERT INTO notifications (key, reference, event, parcel_id, msisdn, lang, text, encoding, segments, status, tries, next_attempt_at, created_at, updated_at, sent_at, delivered_at, channel)
SELECT 'p' || id || ':' || e, 'DZ' || md5(id || e)::varchar(18), e, id, '88' || recipient_phone, 'bn', 'পার্সেল ' || id, 'ucs2', 1, 'delivered', 1, created_at, created_at, created_at, created_at, created_at, 'sms'
FROM made CROSS JOIN (VALUES ('accepted'), ('delivered')) v(e);
ANALYZE;
