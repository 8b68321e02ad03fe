-- Contact matching (src/social): a wallet uploads the SHA-256 of each phone in its address book
-- (hex, of the normalised number as stored here: 13800138000, or +44… for others), never the
-- numbers; users are found by that hash.
alter table members add column phone_sha256 text
  generated always as (encode(sha256(phone::bytea), 'hex')) stored; -- a phone is digits and '+' only
create index members_phone_sha256 on members (phone_sha256) where phone_sha256 is not null;
