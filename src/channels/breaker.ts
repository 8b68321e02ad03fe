/**
 * A circuit breaker in front of each bank (src/core/circuit-breaker.ts): a bank that stops
 * answering, or answers slowly, is refused at once for a while instead of holding every caller
 * for its timeout, and the other banks go on serving.
 *
 * A call the breaker refuses is never made, so it is answered as a definite refusal, code
 * `CIRCUIT_OPEN`: the bank was not asked and nothing moved — never as `unknown`, which means a
 * request went out and its outcome is not known. The one place where even a call not made says
 * nothing about an order is a resend of an order the bank did not find (its first request may
 * still be on its way); `Channels` keeps that order open instead of failing it.
 */
import type { BreakerState } from '../core/circuit-breaker.ts';
import { CircuitBreaker, type CircuitBreakerOptions } from '../core/circuit-breaker.ts';
import type { BankAdapter, BankAnswer } from './adapter.ts';

/** The refusal code of a call a bank's open breaker did not let through. */
export const circuitOpenCode = 'CIRCUIT_OPEN';

/** Whether an answer is the breaker's refusal rather than the bank's. */
export const isCircuitOpen = (answer: BankAnswer<unknown>): boolean =>
  answer.kind === 'refused' && answer.code === circuitOpenCode;

export type BankBreakerOptions = Omit<CircuitBreakerOptions, 'onStateChange'>;

/** `inner` behind a breaker: every call that reaches the bank is counted, a refused one is not made. */
export class BreakerBankAdapter implements BankAdapter {
  readonly code: string;
  readonly #inner: BankAdapter;
  readonly #breaker: CircuitBreaker;

  constructor(inner: BankAdapter, options: BankBreakerOptions, onStateChange?: (state: BreakerState) => void) {
    this.code = inner.code;
    this.#inner = inner;
    this.#breaker = new CircuitBreaker({ ...options, onStateChange });
    // Optional in the contract: offered only when the bank offers it.
    if (!inner.payoutBatch) this.payoutBatch = undefined;
  }

  /** The breaker's state now. */
  get state(): BreakerState {
    return this.#breaker.state;
  }

  createGatewayOrder(input: Parameters<BankAdapter['createGatewayOrder']>[0]) {
    return this.#guard(() => this.#inner.createGatewayOrder(input));
  }

  requestAgreement(input: Parameters<BankAdapter['requestAgreement']>[0]) {
    return this.#guard(() => this.#inner.requestAgreement(input));
  }

  confirmAgreement(agreementNo: string, smsCode: string) {
    return this.#guard(() => this.#inner.confirmAgreement(agreementNo, smsCode));
  }

  withhold(input: Parameters<BankAdapter['withhold']>[0]) {
    return this.#guard(() => this.#inner.withhold(input));
  }

  payout(input: Parameters<BankAdapter['payout']>[0]) {
    return this.#guard(() => this.#inner.payout(input));
  }

  payoutBatch?: BankAdapter['payoutBatch'] = (input) =>
    this.#guard(() => (this.#inner.payoutBatch as NonNullable<BankAdapter['payoutBatch']>)(input));

  query(orderNo: string) {
    return this.#guard(() => this.#inner.query(orderNo));
  }

  fetchStatement(date: string) {
    return this.#guard(() => this.#inner.fetchStatement(date));
  }

  // Checks of a signature made locally: no call, nothing for the breaker.
  verifyCallback(headers: Record<string, string | undefined>, body: string) {
    return this.#inner.verifyCallback(headers, body);
  }

  verifyReturn(params: Record<string, string>) {
    return this.#inner.verifyReturn(params);
  }

  async #guard<T>(call: () => Promise<BankAnswer<T>>): Promise<BankAnswer<T>> {
    const permit = this.#breaker.tryAcquire();
    if (!permit) {
      return { kind: 'refused', code: circuitOpenCode, message: `${this.code} is not answering well; not called` };
    }
    let answer: BankAnswer<T>;
    try {
      answer = await call();
    } catch (error) {
      this.#breaker.record(permit, true);
      throw error;
    }
    // A refusal is an answer: the bank is up. Only an unknown outcome counts against it.
    this.#breaker.record(permit, answer.kind === 'unknown');
    return answer;
  }
}
