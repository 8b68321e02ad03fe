/**
 * The `biz_content` of every open gateway method, as a TypeBox schema with Alipay's published
 * field limits (opendocs.alipay.com, each method's 请求参数 table): the one place where a method's
 * fields are named, typed and bounded, and where a miss gets its Alipay refusal. A method reads
 * its typed object through `checkBizContent` (src/gateway/biz-content.ts), in `method()` of
 * alipay-methods.ts. The modules check again what they take (a pair of assertions).
 */
import Type from 'typebox';
import { limits } from '../core/limits.ts';
import {
  amount,
  type BizOf,
  type BizRefusal,
  bizSchema,
  maybe,
  merchantNo,
  oneOf,
  relativeTime,
  text,
} from '../gateway/index.ts';
import { payoutErrors } from '../payouts/index.ts';
import { preauthErrors } from '../preauth/index.ts';
import { billErrors, type TradeErrorCode, tradeErrors } from '../trades/index.ts';

const acq = (code: TradeErrorCode): BizRefusal => ({ subCode: `ACQ.${code}`, subMsg: tradeErrors[code].message });
const invalid = acq('INVALID_PARAMETER');
// The fund and bill methods' namespaces are Alipay's: a bare code, and `isv.` for the bill query.
const fundInvalid: BizRefusal = { subCode: 'INVALID_PARAMETER', subMsg: payoutErrors.INVALID_PARAMETER.message };
// Sesame credit's namespace is ZMCREDIT (Paybao names its codes there; docs/credit.md).
const zhimaInvalid: BizRefusal = { subCode: 'ZMCREDIT.invalid_parameter', subMsg: 'a parameter is malformed' };
const billInvalid: BizRefusal = { subCode: 'isv.invalid_arguments', subMsg: billErrors.invalid_arguments.message };

/** Alipay's amount range for trades and refunds, [0.01, 100000000] yuan, in fen. */
const tradeAmount = () => amount(1n, 100_000_000_00n);
const optional = Type.Optional;

/** Which trade: `trade_no` or `out_trade_no` (the trades module requires one). */
const tradeKey = { trade_no: maybe(text(64)), out_trade_no: maybe(merchantNo()) };

/** What creates a trade (create, precreate, page and wap pay; pay adds the payment code). */
const createFields = {
  out_trade_no: merchantNo(),
  total_amount: tradeAmount(),
  subject: text(256),
  product_code: maybe(text(64)),
  // 1m to 15d, or 1c (until midnight); the trades module checks the range.
  timeout_express: maybe(relativeTime('mhdc')),
  notify_url: maybe(text(limits.notifyUrlLengthMax)),
  escrow_trade: optional(oneOf('Y', 'N')),
  confirm_timeout_express: maybe(relativeTime('mhd')),
};
const createTrade = bizSchema(createFields, invalid);

/** Royalty receivers of `alipay.trade.order.settle` (OpenApiRoyaltyDetailInfoPojo). */
const royaltyParameter = Type.Object({
  trans_in: text(16),
  trans_in_type: maybe(text(64)),
  amount: optional(tradeAmount()),
  // A percentage is no money: Alipay's Number(3), taken as a number or as its digits.
  amount_percentage: optional(
    Type.Union([Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,2})?$' }), Type.Number({ minimum: 0, maximum: 100 })], {
      description: 'a percentage, as digits or a number',
    }),
  ),
  desc: maybe(text(1000)),
});

/** A freeze's amount: Alipay's [0.01, 100000000] yuan. */
const preauthAmount = () => amount(1n, limits.preauthAmountFenMax);

/**
 * What both freezes take. `pay_timeout` is how long an app freeze waits for its payer (Alipay's
 * 1m to 15d; the module checks the range); `freeze_term` is Paybao's own: after it the freeze
 * unfreezes itself (30 days by default).
 */
const freezeFields = {
  out_order_no: merchantNo(),
  out_request_no: merchantNo(),
  order_title: text(100),
  amount: preauthAmount(),
  product_code: maybe(oneOf('PRE_AUTH', 'PRE_AUTH_ONLINE')),
  payee_user_id: maybe(text(32)),
  payee_logon_id: maybe(text(100)),
  pay_timeout: maybe(relativeTime('mhd')),
  freeze_term: maybe(relativeTime('mhd')),
  extra_param: maybe(text(300)),
  notify_url: maybe(text(limits.notifyUrlLengthMax)),
};

export const bizSchemas = {
  'alipay.trade.create': createTrade,
  'alipay.trade.precreate': createTrade,
  'alipay.trade.page.pay': createTrade,
  'alipay.trade.wap.pay': createTrade,
  'alipay.trade.pay': bizSchema(
    // terminal_id: the till, which the risk engine counts payments by. With auth_no (product_code
    // PREAUTH_PAY) the trade is paid from a freeze, and auth_code is not asked.
    {
      ...createFields,
      scene: optional(oneOf('bar_code')),
      auth_code: maybe(text(32)),
      terminal_id: maybe(text(32)),
      auth_no: maybe(text(64)),
      auth_confirm_mode: optional(oneOf('COMPLETE', 'NOT_COMPLETE')),
    },
    invalid,
    {
      auth_code: acq('PAYMENT_AUTH_CODE_INVALID'),
    },
  ),
  'alipay.trade.query': bizSchema(tradeKey, invalid),
  'alipay.trade.close': bizSchema(tradeKey, invalid),
  'alipay.trade.cancel': bizSchema(tradeKey, invalid),
  'alipay.trade.refund': bizSchema(
    {
      ...tradeKey,
      refund_amount: tradeAmount(),
      out_request_no: maybe(merchantNo()),
      refund_reason: maybe(text(256)),
    },
    invalid,
    { refund_amount: acq('REASON_TRADE_REFUND_FEE_ERR') },
  ),
  'alipay.trade.fastpay.refund.query': bizSchema(
    {
      ...tradeKey,
      out_request_no: maybe(merchantNo()),
      // Alipay's extra answers on request; Paybao knows refund_detail_item_list and ignores the rest.
      query_options: Type.Optional(
        Type.Array(text(64), { maxItems: limits.gatewayQueryOptionsMax, description: 'a list of extra answers' }),
      ),
    },
    invalid,
  ),
  'alipay.trade.order.settle': bizSchema(
    {
      ...tradeKey,
      out_request_no: merchantNo(),
      royalty_parameters: Type.Array(royaltyParameter, {
        minItems: 1,
        maxItems: limits.royaltyReceiversMax,
        description: `a list of 1 to ${limits.royaltyReceiversMax} receivers`,
      }),
    },
    invalid,
  ),
  'alipay.fund.trans.uni.transfer': bizSchema(
    {
      out_biz_no: merchantNo(),
      // TRANS_ACCOUNT_NO_PWD: [0.1, 100000000] yuan.
      trans_amount: amount(10n, 100_000_000_00n),
      product_code: oneOf('TRANS_ACCOUNT_NO_PWD'),
      biz_scene: optional(oneOf('DIRECT_TRANSFER')),
      payee_info: Type.Object({
        identity: text(64),
        identity_type: oneOf('ALIPAY_USER_ID', 'ALIPAY_LOGON_ID'),
        name: maybe(text(128)),
      }),
      order_title: maybe(text(128)),
      remark: maybe(text(200)),
    },
    fundInvalid,
  ),
  // A merchant's campaign red packet ("red packet rain"): Alipay's cash red packet payment, the
  // campaign's shares and kind in business_params (a JSON string, as Alipay's field is).
  'alipay.fund.trans.app.pay': bizSchema(
    {
      out_biz_no: merchantNo(),
      trans_amount: amount(1n, 100_000_000_00n),
      product_code: oneOf('STD_RED_PACKET'),
      biz_scene: optional(oneOf('PERSONAL_PAY')),
      order_title: maybe(text(128)),
      business_params: text(1024),
    },
    fundInvalid,
  ),
  // Paybao's own (Alipay's red packets are handed out by the merchant; a campaign draws them here).
  'paybao.fund.redpacket.grab': bizSchema(
    {
      order_id: text(64),
      payee_info: Type.Object({ identity: text(64), identity_type: oneOf('ALIPAY_USER_ID') }),
    },
    fundInvalid,
  ),
  'paybao.fund.redpacket.query': bizSchema({ order_id: text(64) }, fundInvalid),
  'alipay.fund.trans.common.query': bizSchema(
    { out_biz_no: maybe(merchantNo()), order_id: maybe(text(64)), pay_fund_order_id: maybe(text(64)) },
    fundInvalid,
  ),
  'alipay.data.dataservice.bill.downloadurl.query': bizSchema(
    { bill_type: text(10), bill_date: text(15) },
    billInvalid,
  ),
  // Paybao's own escrow steps (no Alipay table): the trades module's limits.
  'paybao.trade.ship': bizSchema({ ...tradeKey, logistics_company: text(64), logistics_no: text(64) }, invalid),
  'paybao.trade.refund.agree': bizSchema({ case_no: text(64) }, invalid),
  'paybao.trade.refund.refuse': bizSchema(
    { case_no: text(64), refuse_reason: text(limits.afterSaleTextCharsMax) },
    invalid,
  ),
  'paybao.trade.return.receive': bizSchema({ case_no: text(64) }, invalid),
  'paybao.trade.refund.case.query': bizSchema({ case_no: text(64) }, invalid),
  'paybao.trade.dispute.answer': bizSchema(
    { dispute_no: text(64), evidence: text(limits.afterSaleEvidenceCharsMax) },
    invalid,
  ),
  'paybao.trade.dispute.query': bizSchema({ dispute_no: text(64) }, invalid),
  // Fund authorisation (pre-authorisation): Alipay's fund-auth tables; bare sub codes.
  'alipay.fund.auth.order.freeze': bizSchema(
    {
      ...freezeFields,
      auth_code: text(64),
      auth_code_type: oneOf('bar_code'),
    },
    fundInvalid,
    { auth_code: { subCode: 'AUTH_CODE_INVALID', subMsg: preauthErrors.auth_code_invalid.message } },
  ),
  'alipay.fund.auth.order.app.freeze': bizSchema(freezeFields, fundInvalid),
  'alipay.fund.auth.order.unfreeze': bizSchema(
    {
      auth_no: text(64),
      out_request_no: merchantNo(),
      amount: preauthAmount(),
      remark: text(100),
      extra_param: maybe(text(300)),
    },
    fundInvalid,
  ),
  'alipay.fund.auth.operation.detail.query': bizSchema(
    {
      auth_no: maybe(text(64)),
      out_order_no: maybe(merchantNo()),
      operation_id: maybe(text(64)),
      out_request_no: maybe(merchantNo()),
      operation_type: optional(oneOf('FREEZE', 'UNFREEZE', 'PAY')),
    },
    fundInvalid,
  ),
  'paybao.settlement.query': bizSchema({ settlement_no: maybe(text(64)) }, invalid),
  // Sesame credit (src/server/credit-methods.ts): the merchant's own id of the query, and
  // Zhima's product code (w1010100100000000001), taken and not checked.
  'zhima.credit.score.get': bizSchema({ transaction_id: text(64), product_code: maybe(text(32)) }, zhimaInvalid),
} as const;

export type BizMethod = keyof typeof bizSchemas;
/** The typed `biz_content` of `method`. */
export type Biz<M extends BizMethod> = BizOf<(typeof bizSchemas)[M]>;
