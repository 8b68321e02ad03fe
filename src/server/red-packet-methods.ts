/**
 * Merchant campaign red packets on the open gateway: `alipay.fund.trans.app.pay` with
 * `product_code` STD_RED_PACKET funds a campaign packet from the merchant's wallet (its shares
 * and kind in `business_params`, `{"shares": 1000, "kind": "LUCKY"}`); users grab it in the
 * wallet, or the merchant hands a share to a user it names (`paybao.fund.redpacket.grab`, Paybao's
 * own: Alipay has no lucky draw); `paybao.fund.redpacket.query` shows what is left. What is not
 * grabbed by the packet's expiry goes back to the merchant's wallet.
 */
import { formatAmount } from '../core/money.ts';
import type { GatewayContext, GatewayMethod } from '../gateway/index.ts';
import type { Members } from '../members/index.ts';
import { type PacketView, type Social, SocialError } from '../social/index.ts';
import { methods } from './alipay-methods.ts';

export interface RedPacketMethodDeps {
  social: Social;
  members: Members;
}

/** Campaign shares and kind, from `business_params`; a miss is the packet's own refusal. */
function campaignParams(text: string): { shares: number; kind: 'LUCKY' | 'EQUAL' } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SocialError('parameter_invalid', { param: 'business_params', detail: 'not JSON' });
  }
  const p = (parsed ?? {}) as { shares?: unknown; kind?: unknown };
  if (typeof p.shares !== 'number' || !Number.isInteger(p.shares))
    throw new SocialError('shares_invalid', { param: 'business_params' });
  const kind = p.kind ?? 'LUCKY';
  if (kind !== 'LUCKY' && kind !== 'EQUAL') throw new SocialError('parameter_invalid', { param: 'business_params' });
  return { shares: p.shares, kind };
}

function packetFields(p: PacketView): Record<string, unknown> {
  return {
    order_id: p.packetId,
    status: p.status === 'OPEN' ? 'SUCCESS' : p.status,
    trans_amount: formatAmount(p.amountFen),
    remaining_amount: formatAmount(p.remainingFen),
    shares: p.shares,
    remaining_shares: p.remainingShares,
    refunded_amount: p.refundedFen === null ? undefined : formatAmount(p.refundedFen),
  };
}

export function redPacketMethods(deps: RedPacketMethodDeps): Record<string, GatewayMethod> {
  const { social, members } = deps;
  const merchantOf = async (ctx: GatewayContext) => (await members.getApp(ctx.appId)).sellerId;
  return methods({
    'alipay.fund.trans.app.pay': async (ctx, biz) => {
      const { shares, kind } = campaignParams(biz.business_params);
      const { packet } = await social.redPackets.send(await merchantOf(ctx), biz.out_biz_no, {
        kind,
        amount: formatAmount(biz.trans_amount),
        shares,
        greeting: biz.order_title ?? '',
        campaign: true,
      });
      return { out_biz_no: biz.out_biz_no, ...packetFields(packet) };
    },
    'paybao.fund.redpacket.grab': async (ctx, biz) => {
      const grab = await social.redPackets.grabFor(await merchantOf(ctx), biz.order_id, biz.payee_info.identity);
      return {
        order_id: grab.packetId,
        payee_user_id: grab.userId,
        trans_amount: formatAmount(grab.amountFen),
        seq: grab.seq,
        status: 'SUCCESS',
      };
    },
    'paybao.fund.redpacket.query': async (ctx, biz) =>
      packetFields(await social.redPackets.ofSender(await merchantOf(ctx), biz.order_id)),
  });
}
