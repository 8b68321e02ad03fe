-- Which payment spent a payment code (the gateway's app and out_trade_no), so that the retry of
-- that payment, whose first try spent the code and was then cut off, may spend it again.
alter table members_payment_codes add column redeemed_for text;
