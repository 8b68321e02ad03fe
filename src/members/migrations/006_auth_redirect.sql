-- An app's authorisation callback address (Alipay's 授权回调地址): the user authorisation page
-- (src/oauth) sends a user back with an auth_code only to a redirect_uri on this URL's origin.
-- Null: the app has none, and cannot ask users to authorise it.
alter table members_apps add column auth_redirect_url text;
