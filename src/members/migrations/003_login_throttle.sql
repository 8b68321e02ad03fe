-- Wrong-password counts of the login throttle (login-throttle.ts): one row per phone
-- ('phone:+8613800138000') and per client address ('address:203.0.113.7'), counting the password
-- attempts of a fixed window that starts at the first one. A row whose window has ended counts
-- nothing and is deleted by the next failure.
create table members_login_failures (
  key text primary key,
  window_start_ns bigint not null,
  failures int not null check (failures >= 0)
);
create index members_login_failures_window on members_login_failures (window_start_ns);
