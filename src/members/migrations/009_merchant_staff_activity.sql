-- What each member of a merchant's staff did in the portal (merchant-staff.ts `record`): a refund,
-- a shipment, an answer, a resend, a key or notify URL changed, a member of staff added. The owner
-- reads it; nothing is ever changed or deleted. Times are nanoseconds from the injected clock.
create table merchant_staff_activity (
  id bigint generated always as identity primary key,
  merchant_id text not null references members (user_id),
  staff_id uuid not null references merchant_staff (staff_id),
  action text not null,
  target text not null,
  detail text,
  at_ns bigint not null
);
create index merchant_staff_activity_merchant on merchant_staff_activity (merchant_id, id desc);
