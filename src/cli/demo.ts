/**
 * The demo a fresh install shows (issue 17 §4): `paybao start` on the embedded engine and an
 * empty data directory creates a marketplace merchant with an app (its key pair written to
 * `<data>/demo/`), two buyers whose cards at the simulated bank are bound with the bank's texted
 * code and who topped up through it (so the reserves cover their money), and trades in each state
 * a merchant, an operator and a buyer meet: waiting for payment, paid, shipped, finished, closed,
 * refunded, and one in dispute; the merchant's owner login for the portal and an administrator
 * for the console. Then it prints where to look and how to log in.
 *
 * Everything goes through the platform's own modules, as a merchant's and a buyer's requests
 * would; nothing is written around them. `PAYBAO_DEMO=off` (and any `DATABASE_URL`) turns it off.
 * A demo interrupted half-way is not resumed: the data directory is no longer empty; remove it to
 * start again.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import type { Platform } from '../platform.ts';
import type { Actor } from '../trades/index.ts';

/** The buyers: wallet logins whose phones are those of the simulator's default ICBC customers. */
const buyers = [
  { name: 'Zhang San', phone: '13800000001', cardNo: '6222020000000001', password: 'demo-zhang-1' },
  { name: 'Li Si', phone: '13800000002', cardNo: '6222020000000002', password: 'demo-li-2' },
] as const;
const demoBank = 'ICBC';
const topUp = '2000.00';
const merchantName = 'Paybao 演示商城 Demo Marketplace';
/** The portal's owner login (a staff phone, apart from the buyers') and the console's operator. */
const owner = { phone: '13900000009', password: 'demo-owner-1', name: '演示店主 Demo owner' };
const operator = { name: 'demo', password: 'demo-operator-1' };

export interface DemoSummary {
  appId: string;
  sellerId: string;
  /** Files written under the data directory, relative to the working directory. */
  appFile: string;
  privateKeyFile: string;
  operatorTokenFile: string;
  owner: { phone: string; password: string };
  operator: { name: string; password: string };
  buyers: { name: string; phone: string; password: string; userId: string; card: string | null; balance: string }[];
  /** trade_no by the state the demo left it in. */
  trades: Record<string, string>;
  /** The cashier of the trade waiting for payment. */
  cashierUrl: string;
}

/**
 * Whether `paybao start` makes the demo: on the embedded engine, unless PAYBAO_DEMO=off, and only
 * when the data directory is missing or empty (asked before the platform creates its files).
 */
export function demoWanted(config: Config): boolean {
  if (!config.demo || config.databaseUrl !== undefined) return false;
  return !existsSync(config.dataDir) || readdirSync(config.dataDir).length === 0;
}

/** Creates the demo (see the file comment); the bank at `bankUrl` binds the cards and tops up. */
export async function createDemo(
  platform: Platform,
  options: { url: string; bankUrl: string; dataDir: string; logger: Logger },
): Promise<DemoSummary> {
  const dir = join(options.dataDir, 'demo');
  mkdirSync(dir, { recursive: true });
  const files = {
    appFile: join(dir, 'app.json'),
    privateKeyFile: join(dir, 'app-private-key.pem'),
    publicKeyFile: join(dir, 'app-public-key.pem'),
    operatorTokenFile: join(dir, 'operator-token.txt'),
  };

  // The merchant and its app, with the key pair its alipay-sdk would be configured with (PKCS#1,
  // the SDK's default keyType).
  const keys = generateKeyPairSync('rsa', { modulusLength: limits.demoRsaBits });
  const privateKeyPem = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(files.privateKeyFile, privateKeyPem, { mode: 0o600 });
  writeFileSync(files.publicKeyFile, publicKeyPem);
  const app = await platform.members.createApp({ name: merchantName, merchantPublicKeyPem: publicKeyPem });
  await platform.merchantPortal.createOwner(app.sellerId, owner);
  await platform.trades.saveContract(app.appId, {
    escrowDefault: true,
    feeBps: limits.demoEscrowFeeBps,
    confirmPeriodMs: limits.demoConfirmPeriodMs,
  });
  // A rental merchant's credit service, so that deposit-free freezes can be tried at once.
  const credit = await platform.preauth.creditServices.grant(app.appId, { category: 'RENT_PHONE' }, 'demo');
  writeFileSync(
    files.appFile,
    `${JSON.stringify(
      {
        app_id: app.appId,
        seller_id: app.sellerId,
        gateway: `${options.url}/gateway.do`,
        private_key_file: files.privateKeyFile,
        alipay_public_key: app.alipayPublicKey,
        // A freeze's extra_param asking for credit (docs/preauth.md).
        credit_extra_param: JSON.stringify({ category: credit.category, serviceId: credit.serviceId }),
      },
      null,
      2,
    )}\n`,
  );

  // The buyers: a card bound with the bank's texted code and a top-up from it, when the bank answers.
  const bankUp = await waitForBank(options.bankUrl);
  if (!bankUp)
    options.logger.warn(
      { bank: options.bankUrl },
      'the demo bank does not answer: the demo buyers get demo money instead of a card top-up',
    );
  const made: DemoSummary['buyers'] = [];
  for (const buyer of buyers) {
    const { userId } = await platform.members.createUser({ phone: buyer.phone, password: buyer.password });
    let card: string | null = null;
    if (bankUp) {
      const pending = await platform.channels.cards.bind(userId, {
        bank: demoBank,
        cardNo: buyer.cardNo,
        name: buyer.name,
        phone: buyer.phone,
      });
      await platform.channels.cards.confirm(userId, pending.cardId, await bankSmsCode(options.bankUrl, buyer.phone));
      await platform.channels.topUpByCard(userId, {
        cardId: pending.cardId,
        amount: topUp,
        idempotencyKey: 'demo-top-up',
      });
      card = `${demoBank} ****${buyer.cardNo.slice(-4)}`;
    } else {
      await platform.channels.demo.deposit(userId, parseAmount(topUp) ?? 0n, 'demo');
    }
    made.push({ ...buyer, userId, card, balance: '' });
  }
  const [zhang, li] = made as [DemoSummary['buyers'][number], DemoSummary['buyers'][number]];

  // Trades in each state.
  const seller: Actor = { kind: 'seller', appId: app.appId };
  const buyerOf = (userId: string): Actor => ({ kind: 'buyer', userId });
  const create = (outTradeNo: string, subject: string, totalAmount: string) =>
    platform.trades.create({ appId: app.appId, outTradeNo, subject, totalAmount });
  const paid = async (outTradeNo: string, subject: string, amount: string, buyerId: string) => {
    const trade = await create(outTradeNo, subject, amount);
    await platform.trades.pay(app.appId, { tradeNo: trade.tradeNo }, buyerId);
    return trade.tradeNo;
  };
  const shipped = async (outTradeNo: string, subject: string, amount: string, buyerId: string) => {
    const tradeNo = await paid(outTradeNo, subject, amount, buyerId);
    await platform.escrow.ship(seller, { tradeNo }, { company: 'SF Express', trackingNo: `SF${outTradeNo.slice(-4)}` });
    return tradeNo;
  };
  const trades: Record<string, string> = {};
  trades.waitingForPayment = (await create('demo-0001', '无线耳机 Wireless earbuds', '199.00')).tradeNo;
  trades.paid = await paid('demo-0002', '青瓷茶具 Celadon tea set', '268.00', zhang.userId);
  trades.shipped = await shipped('demo-0003', '跑步鞋 Running shoes', '459.00', zhang.userId);
  trades.finished = await shipped('demo-0004', '笔记本 Notebook', '35.50', li.userId);
  await platform.escrow.confirmReceipt(buyerOf(li.userId), { tradeNo: trades.finished });
  const closed = await create('demo-0005', '台历 Desk calendar', '29.90');
  await platform.trades.close(app.appId, { tradeNo: closed.tradeNo });
  trades.closed = closed.tradeNo;
  // Refunded before shipment: the buyer's request is paid at once.
  trades.refunded = await paid('demo-0006', '保温杯 Vacuum flask', '88.00', li.userId);
  await platform.afterSale.requestRefund(
    buyerOf(li.userId),
    { tradeNo: trades.refunded },
    { amount: '88.00', reason: '拍错了 Ordered by mistake' },
  );
  // In dispute: shipped, the buyer asked for a refund, the seller refused, the buyer asked the platform.
  trades.inDispute = await shipped('demo-0007', '台灯 Desk lamp', '129.00', zhang.userId);
  const refundCase = await platform.afterSale.requestRefund(
    buyerOf(zhang.userId),
    { tradeNo: trades.inDispute },
    { amount: '129.00', reason: '灯不亮 The lamp does not light' },
  );
  await platform.afterSale.refuse(seller, refundCase.caseNo, '发货前已测试 Tested before shipping');
  await platform.afterSale.openDispute(
    buyerOf(zhang.userId),
    { tradeNo: trades.inDispute },
    { reason: '卖家拒绝退款 The seller refused the refund' },
  );

  const { token } = await platform.operators.create(operator.name, { password: operator.password });
  writeFileSync(files.operatorTokenFile, `${token}\n`, { mode: 0o600 });
  for (const buyer of made) buyer.balance = formatAmount(await platform.members.walletBalance(buyer.userId));
  const shown = (file: string) => {
    const near = relative(process.cwd(), file);
    return near.startsWith('..') || isAbsolute(near) ? resolve(file) : near;
  };
  return {
    appId: app.appId,
    sellerId: app.sellerId,
    appFile: shown(files.appFile),
    privateKeyFile: shown(files.privateKeyFile),
    operatorTokenFile: shown(files.operatorTokenFile),
    owner: { phone: owner.phone, password: owner.password },
    operator,
    buyers: made,
    trades,
    cashierUrl: `${options.url}/cashier/${trades.waitingForPayment}`,
  };
}

/** What `paybao start` prints after the demo: where to look and with which logins. */
export function demoBanner(url: string, demo: DemoSummary): string {
  const lines = [
    '',
    'A demo was created in this fresh data directory (PAYBAO_DEMO=off skips it):',
    `  wallet app       ${url}/app`,
    ...demo.buyers.map(
      (b) =>
        `                   ${b.name}: phone ${b.phone}, password ${b.password} — ¥${b.balance}${b.card ? `, card ${b.card}` : ''}`,
    ),
    `  merchant portal  ${url}/merchant`,
    `                   owner: phone ${demo.owner.phone}, password ${demo.owner.password}, then the texted code (npx paybao sms list)`,
    `  console          ${url}/console`,
    `                   operator: name ${demo.operator.name}, password ${demo.operator.password} (a script's bearer token: ${demo.operatorTokenFile})`,
    `  cashier          ${demo.cashierUrl}   (a trade waiting for payment)`,
    `  merchant app     ${demo.appId}: alipay-sdk settings in ${demo.appFile}, private key ${demo.privateKeyFile}`,
    '',
  ];
  return lines.join('\n');
}

/** Waits for the bank to answer its health check (the simulator is a child that starts beside us). */
async function waitForBank(bankUrl: string): Promise<boolean> {
  const deadline = Date.now() + limits.demoBankWaitMs;
  while (Date.now() < deadline) {
    const up = await fetch(`${bankUrl}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) return true;
    await new Promise((resolve) => setTimeout(resolve, limits.demoBankPollMs));
  }
  return false;
}

/** The code the simulated bank texted to a phone (its development outbox: the demo's "phone"). */
async function bankSmsCode(bankUrl: string, phone: string): Promise<string> {
  const response = await fetch(`${bankUrl}/admin/sms?phone=${encodeURIComponent(phone)}`);
  const { messages } = (await response.json()) as { messages: { code: string }[] };
  const code = messages[0]?.code;
  if (!code) throw new Error(`the demo bank texted no code to ${phone}`);
  return code;
}
