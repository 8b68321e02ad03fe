/**
 * Users as a spec: registration (phone rules, duplicates, bad input writes nothing), password and
 * SMS logins (codes from the development outbox; expiry moved by a ManualClock, single use,
 * attempt limit) and wallets funded from the platform funding account by a ledger transfer that
 * a replay never repeats. The books must verify after every test.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { AccountCode, cnyLedger, TransferCode } from '../../src/core/ledger-codes.ts';
import { limits } from '../../src/core/limits.ts';
import { AccountFlags } from '../../src/ledger/index.ts';
import { Members, type MembersErrorCode, type SmsSender } from '../../src/members/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock();
const platformOf = usePlatform({ clock });

const members = () => platformOf().members;
let phoneSeq = 0;
/** A phone no other test uses. */
const freshPhone = () => `139${(10_000_000 + phoneSeq++).toString().slice(-8)}`;
const password = 'correct horse battery';

async function rejects(promise: Promise<unknown>, code: MembersErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'MembersError', code });
}

async function count(table: string): Promise<number> {
  const [row] = await platformOf().db.query<{ n: number }>(`select count(*)::int n from ${table}`);
  return row?.n ?? -1;
}

/** The code in the newest outbox message to `phone`. */
async function lastCode(phone: string): Promise<string> {
  const [message] = await members().smsOutbox({ phone, limit: 1 });
  const code = /\b(\d{6})\b/.exec(message?.text ?? '')?.[1];
  if (!code) throw new Error(`no code in the outbox for ${phone}`);
  return code;
}

describe('registration', () => {
  it('gives a user an Alipay-style id, a masked logon id and an empty CNY wallet', async () => {
    const user = await members().createUser({ phone: '13800138000', password });
    expect(user.userId).toMatch(/^2088\d{12}$/);
    expect(user.logonId).toBe('138****8000');
    expect(user.phone).toBe('13800138000');
    const [wallet] = await platformOf().ledger.lookupAccounts([user.walletAccountId]);
    expect(wallet).toMatchObject({
      ledger: cnyLedger,
      code: AccountCode.userWallet,
      flags: AccountFlags.debitsMustNotExceedCredits,
      userData64: BigInt(user.userId),
      creditsPosted: 0n,
    });
    expect(await members().getUser(user.userId)).toEqual(user);
  });

  it('refuses a second user with the same phone, however it is written', async () => {
    const phone = freshPhone();
    await members().createUser({ phone, password });
    const before = await count('members');
    await rejects(members().createUser({ phone, password }), 'phone_taken');
    await rejects(members().createUser({ phone: `+86 ${phone}`, password }), 'phone_taken');
    expect(await count('members')).toBe(before);
  });

  it('lets exactly one of two racing registrations of a phone win', async () => {
    const phone = freshPhone();
    const results = await Promise.allSettled([
      members().createUser({ phone, password }),
      members().createUser({ phone, password }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [refused] = results.filter((r) => r.status === 'rejected');
    expect(refused?.reason).toMatchObject({ code: 'phone_taken' });
  });

  it('accepts E.164 numbers and masks them too', async () => {
    const user = await members().createUser({ phone: '+14155550123', password });
    expect(user.logonId).toBe('+141****0123');
  });

  it('refuses bad phones, passwords and amounts, and writes nothing', async () => {
    const before = [await count('members'), await count('ledger_accounts'), await count('ledger_transfers')];
    for (const phone of ['', '12345', '1380013800', '138001380001', '+0123456789', '二三四', '13800138000x']) {
      await rejects(members().createUser({ phone, password }), 'phone_invalid');
    }
    await rejects(members().createUser({ phone: freshPhone(), password: 'short' }), 'password_invalid');
    await rejects(members().createUser({ phone: freshPhone(), password: 'x'.repeat(129) }), 'password_invalid');
    await rejects(members().createUser({ phone: freshPhone(), password, openingBalance: -1n }), 'amount_invalid');
    await rejects(members().createUser({ phone: freshPhone(), password, openingBalance: 1n << 63n }), 'amount_invalid');
    expect([await count('members'), await count('ledger_accounts'), await count('ledger_transfers')]).toEqual(before);
  });
});

describe('opening balance', () => {
  it('funds the wallet by one ledger transfer from the platform funding account', async () => {
    const user = await members().createUser({ phone: freshPhone(), password, openingBalance: 10_000n });
    expect(await members().walletBalance(user.userId)).toBe(10_000n);
    const fundingId = await members().fundingAccountId();
    const transfers = await platformOf().ledger.getAccountTransfers({ accountId: user.walletAccountId, limit: 10 });
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({
      debitAccountId: fundingId,
      creditAccountId: user.walletAccountId,
      amount: 10_000n,
      ledger: cnyLedger,
      code: TransferCode.openingBalance,
      userData64: BigInt(user.userId),
    });
    const [funding] = await platformOf().ledger.lookupAccounts([fundingId]);
    expect(funding).toMatchObject({ code: AccountCode.platformFunding, ledger: cnyLedger });
    const [row] = await platformOf().db.query<{ name: string }>('select name from platform_accounts');
    expect(row?.name).toBe('funding');
  });

  it('moves the money once however often the funding step runs again', async () => {
    const user = await members().createUser({ phone: freshPhone(), password, openingBalance: 8888n });
    const fundingId = await members().fundingAccountId();
    const [before] = await platformOf().ledger.lookupAccounts([fundingId]);
    await members().ensureWallet(user.userId);
    await Promise.all([members().ensureWallet(user.userId), members().ensureWallet(user.userId)]);
    const [after] = await platformOf().ledger.lookupAccounts([fundingId]);
    expect(after?.debitsPosted).toBe(before?.debitsPosted);
    expect(await members().walletBalance(user.userId)).toBe(8888n);
    expect(await platformOf().ledger.getAccountTransfers({ accountId: user.walletAccountId, limit: 10 })).toHaveLength(
      1,
    );
  });

  it('creates the funding account once, whoever asks first', async () => {
    const ids = await Promise.all([members().fundingAccountId(), members().fundingAccountId()]);
    expect(ids[0]).toBe(ids[1]);
    expect(await count('platform_accounts')).toBe(1);
  });
});

describe('password login', () => {
  it('lets the right password in and keeps every wrong one out alike', async () => {
    const phone = freshPhone();
    const user = await members().createUser({ phone, password });
    expect((await members().loginWithPassword(phone, password)).userId).toBe(user.userId);
    expect((await members().loginWithPassword(`+86${phone}`, password)).userId).toBe(user.userId);
    await rejects(members().loginWithPassword(phone, 'wrong password'), 'login_failed');
    await rejects(members().loginWithPassword(freshPhone(), password), 'login_failed');
    await rejects(members().loginWithPassword('not a phone', password), 'login_failed');
  });

  it('stores a salted scrypt hash, never the password', async () => {
    const a = await members().createUser({ phone: freshPhone(), password });
    const b = await members().createUser({ phone: freshPhone(), password });
    const rows = await platformOf().db.query<{ password_hash: string }>(
      'select password_hash from members where user_id in ($1, $2)',
      [a.userId, b.userId],
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(rows[0]?.password_hash).not.toBe(rows[1]?.password_hash);
    expect(rows.some((r) => r.password_hash.includes(password))).toBe(false);
  });
});

describe('SMS login', () => {
  it('logs in with the code from the outbox, once', async () => {
    const phone = freshPhone();
    const user = await members().createUser({ phone, password });
    await members().sendLoginCode(phone);
    const code = await lastCode(phone);
    expect((await members().loginWithSmsCode(phone, code)).userId).toBe(user.userId);
    await rejects(members().loginWithSmsCode(phone, code), 'sms_code_invalid');
  });

  it('refuses an expired code, and a new one works after the resend interval', async () => {
    const phone = freshPhone();
    await members().createUser({ phone, password });
    await members().sendLoginCode(phone);
    await rejects(members().sendLoginCode(phone), 'sms_code_too_frequent');
    clock.advanceMs(limits.smsCodeTtlMs);
    await rejects(members().loginWithSmsCode(phone, await lastCode(phone)), 'sms_code_expired');
    await members().sendLoginCode(phone);
    await members().loginWithSmsCode(phone, await lastCode(phone));
  });

  it('kills a code after too many wrong guesses, even for the right code', async () => {
    const phone = freshPhone();
    await members().createUser({ phone, password });
    await members().sendLoginCode(phone);
    const code = await lastCode(phone);
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < limits.smsCodeAttemptsMax; i++) {
      await rejects(members().loginWithSmsCode(phone, wrong), 'sms_code_invalid');
    }
    await rejects(members().loginWithSmsCode(phone, code), 'sms_code_attempts_exceeded');
  });

  it('supersedes an older code with a newer one', async () => {
    const phone = freshPhone();
    await members().createUser({ phone, password });
    await members().sendLoginCode(phone);
    const first = await lastCode(phone);
    clock.advanceMs(limits.smsCodeResendIntervalMs);
    await members().sendLoginCode(phone);
    const second = await lastCode(phone);
    if (first !== second) await rejects(members().loginWithSmsCode(phone, first), 'sms_code_invalid');
    await members().loginWithSmsCode(phone, second);
  });

  it('sends nothing to an unregistered phone, without saying so', async () => {
    const phone = freshPhone();
    await members().sendLoginCode(phone);
    expect(await members().smsOutbox({ phone })).toEqual([]);
    await rejects(members().loginWithSmsCode(phone, '123456'), 'sms_code_invalid');
  });

  it('lists the outbox newest first', async () => {
    const phone = freshPhone();
    await members().createUser({ phone, password });
    await members().sendLoginCode(phone);
    clock.advanceMs(limits.smsCodeResendIntervalMs);
    await members().sendLoginCode(phone);
    const messages = await members().smsOutbox({ phone });
    expect(messages).toHaveLength(2);
    expect(messages[0]?.createdAtNs).toBeGreaterThan(messages[1]?.createdAtNs ?? 0n);
  });

  it('revokes the code when the sender fails, so that asking again is not refused as too frequent', async () => {
    let down = true;
    const sent: string[] = [];
    const sender: SmsSender = {
      async send(message) {
        if (down) throw new Error('carrier unavailable');
        sent.push(message.text);
      },
    };
    const withSender = new Members(platformOf().db, platformOf().ledger, { clock, smsSender: sender });
    const phone = freshPhone();
    await withSender.createUser({ phone, password });
    await expect(withSender.sendLoginCode(phone)).rejects.toThrow('carrier unavailable');
    down = false;
    await withSender.sendLoginCode(phone);
    const code = /\b(\d{6})\b/.exec(sent[0] ?? '')?.[1] ?? '';
    await withSender.loginWithSmsCode(phone, code);
  });
});
