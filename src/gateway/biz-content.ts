/**
 * A method's `biz_content` checked against its TypeBox schema, in one place: a field that is
 * missing, of the wrong JSON type, too long or out of range is refused with the method's Alipay
 * `sub_code` (or the field's own, where Alipay names one) and a message naming the field and its
 * rule; what passes reaches the method as a typed object, amounts already in fen.
 *
 * The field kinds below are Alipay's: the lengths are those of its published field tables
 * (facts of the protocol, not tunable limits, so they sit beside the schemas that state them).
 */
import Type, {
  IsCodec,
  type StaticDecode,
  type TLiteral,
  type TObject,
  type TProperties,
  type TSchema,
  type TUnion,
} from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { assert } from '../core/assert.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import type { GatewayFailure } from './types.ts';

/** The Alipay answer to a missing or invalid field: `40004` with this sub code and message. */
export interface BizRefusal {
  readonly subCode: string;
  readonly subMsg: string;
}

/** A method's `biz_content` schema, compiled, with the refusals its misses get. */
export interface BizSchema<T extends TSchema = TSchema> {
  readonly validator: Validator<TProperties, T>;
  /** The refusal of every field but those in `fieldRefusals`. */
  readonly refusal: BizRefusal;
  /** Fields whose refusal Alipay names apart (`refund_amount` → `ACQ.REASON_TRADE_REFUND_FEE_ERR`). */
  readonly fieldRefusals: Readonly<Record<string, BizRefusal>>;
}

/** What a method receives: the schema's decoded type (amounts as `bigint` fen). */
export type BizOf<S extends BizSchema> = S extends BizSchema<infer T> ? StaticDecode<T> : never;

/** A schema over the fields a method reads; other fields pass unread, as Alipay ignores them. */
export function bizSchema<P extends TProperties>(
  properties: P,
  refusal: BizRefusal,
  fieldRefusals: Readonly<Record<string, BizRefusal>> = {},
): BizSchema<TObject<P>> {
  return { validator: Compile(Type.Object(properties)), refusal, fieldRefusals };
}

/**
 * `biz` checked against `schema`: the typed value, or the Alipay failure of the first miss.
 * Merchants' code often sends `"total_amount": 88.88` or `"out_trade_no": 2026` as JSON numbers,
 * and Alipay takes them: such a number is read back as the text the merchant wrote (see
 * `numbersAsText`) and then checked as that text, so no amount is ever computed in floating point.
 */
export function checkBizContent<T extends TSchema>(
  schema: BizSchema<T>,
  raw: unknown,
): { readonly value: StaticDecode<T> } | { readonly failure: GatewayFailure } {
  const { validator } = schema;
  const biz = numbersAsText(validator.Type(), raw);
  if (validator.Check(biz)) return { value: decoded(validator.Type(), biz) as StaticDecode<T> };
  const [error] = validator.Errors(biz);
  let path = error?.instancePath.split('/').slice(1) ?? [];
  let problem = 'is invalid';
  if (error?.keyword === 'required') {
    const missing = (error.params as { requiredProperties?: string[] }).requiredProperties?.[0] ?? '';
    path = [...path, missing];
    problem = 'is required';
  } else {
    const rule = ruleAt(validator.Type(), path);
    if (rule) problem = `must be ${rule}`;
  }
  const field = path.join('.');
  const refusal = schema.fieldRefusals[path[0] ?? ''] ?? schema.refusal;
  const failure: GatewayFailure = {
    code: '40004',
    msg: 'Business Failed',
    subCode: refusal.subCode,
    subMsg: `${refusal.subMsg}: ${field || 'biz_content'} ${problem}`,
  };
  return { failure };
}

/**
 * `value` (which passed `schema`'s check) with every codec field decoded, in a copy: amounts
 * become fen. A walk of its own, because TypeBox's `Decode` re-sorts the schema's unions on every
 * call (some 40 µs a request); the schemas here hold codecs only in objects and arrays.
 */
function decoded(schema: TSchema, value: unknown): unknown {
  if (IsCodec(schema)) return schema['~codec'].decode(value);
  const { properties, items } = schema as { properties?: Record<string, TSchema>; items?: TSchema };
  if (properties && typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = { ...value };
    for (const [key, field] of Object.entries(properties)) {
      if (Object.hasOwn(copy, key)) copy[key] = decoded(field, copy[key]);
    }
    return copy;
  }
  if (items && Array.isArray(value)) return value.map((item) => decoded(items, item));
  return value;
}

/**
 * How a field written as text takes a JSON number: `decimal` (amounts) as the shortest decimal
 * that reads back as the same double — exactly the literal the merchant wrote, for the at most 11
 * significant digits an amount has — which the amount's own check then judges (`88.888` and
 * `1e-7` are refused there); `integer` (numbers and texts) only when it is a safe integer, since a
 * larger or fractional number has already lost the digits it was written with.
 */
type FromNumber = 'decimal' | 'integer';

/** `value` with the numbers of fields that take them (`fromNumber`) turned into their text, in a copy. */
function numbersAsText(schema: TSchema, value: unknown): unknown {
  const from = (schema as { fromNumber?: FromNumber }).fromNumber;
  if (typeof value === 'number' && from !== undefined) {
    if (from === 'decimal' ? Number.isFinite(value) : Number.isSafeInteger(value)) return String(value);
    return value;
  }
  const { properties, items, anyOf } = schema as {
    properties?: Record<string, TSchema>;
    items?: TSchema;
    anyOf?: TSchema[];
  };
  if (anyOf && typeof value === 'number') {
    // `maybe(kind)`: the empty string or the kind; a number can only be the kind.
    for (const option of anyOf) {
      const text = numbersAsText(option, value);
      if (text !== value) return text;
    }
    return value;
  }
  if (properties && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    let copy: Record<string, unknown> | undefined;
    for (const [key, field] of Object.entries(properties)) {
      if (!Object.hasOwn(value, key)) continue;
      const before = (value as Record<string, unknown>)[key];
      const after = numbersAsText(field, before);
      if (after !== before) {
        copy ??= { ...value };
        copy[key] = after;
      }
    }
    return copy ?? value;
  }
  if (items && Array.isArray(value)) return value.map((item) => numbersAsText(items, item));
  return value;
}

/** The `description` of the schema at `path` (object keys and array indexes), for the message. */
function ruleAt(schema: TSchema, path: readonly string[]): string | undefined {
  let node: unknown = schema;
  for (const key of path) {
    const s = node as { properties?: Record<string, unknown>; items?: unknown };
    node = s.properties ? s.properties[key] : s.items;
    if (node === undefined) return undefined;
  }
  return (node as { description?: string }).description;
}

// ---- Alipay's field kinds ----

/**
 * A merchant's own number (`out_trade_no`, `out_request_no`, `out_biz_no`): at most 64
 * characters. Alipay's table says letters, digits and underscores; Paybao has always taken `-`
 * and `.` too (as Alipay itself does), and the trades and payouts modules store them.
 */
export const merchantNo = () =>
  Type.String({
    pattern: '^[A-Za-z0-9_.-]{1,64}$',
    description: '1 to 64 letters, digits, _ - or .',
    fromNumber: 'integer' satisfies FromNumber,
  });

/** A text field of 1 to `chars` characters (`subject` ≤ 256, `refund_reason` ≤ 256). */
export const text = (chars: number) =>
  Type.String({
    minLength: 1,
    maxLength: chars,
    description: `a string of 1 to ${chars} characters`,
    fromNumber: 'integer' satisfies FromNumber,
  });

/** One of a few fixed values (`scene`: `bar_code`; `escrow_trade`: `Y` or `N`). */
export function oneOf<const V extends readonly [string, ...string[]]>(
  ...values: V
): TUnion<{ -readonly [K in keyof V]: TLiteral<V[K]> }> {
  // The map loses the tuple's literal types that the signature states.
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description: values.join(' or ') },
  ) as never;
}

/**
 * An amount in yuan as Alipay writes it (`total_amount`, `refund_amount`, `trans_amount`): a
 * decimal string with at most two places, from `minFen` to `maxFen`; the method gets the fen.
 */
export function amount(minFen: bigint, maxFen: bigint) {
  const description = `a decimal string with at most two places, from ${formatAmount(minFen)} to ${formatAmount(maxFen)}`;
  const inRange = (text: string) => {
    const fen = parseAmount(text);
    return fen !== undefined && fen >= minFen && fen <= maxFen;
  };
  const text = Type.String({ description, fromNumber: 'decimal' satisfies FromNumber });
  return Type.Codec(Type.Refine(text, inRange, () => `must be ${description}`))
    .Decode((text: string): bigint => {
      const fen = parseAmount(text);
      assert(fen !== undefined, 'an amount that passed its check parses');
      return fen;
    })
    .Encode((fen: bigint): string => formatAmount(fen));
}

/**
 * An optional field that may also come empty: many merchants send `""` for a field they do not
 * use, and Alipay takes it as absent (the modules treat `""` as absent too).
 */
export const maybe = <T extends TSchema>(kind: T) =>
  Type.Optional(
    Type.Union([Type.Literal(''), kind], {
      description: `${(kind as { description?: string }).description}, or empty`,
    }),
  );

/** A relative time: digits and a unit, `90m`, `2h`, `3d` (and `1c`, today, where `units` has it). */
export const relativeTime = (units: string) =>
  Type.String({ pattern: `^\\d{1,5}[${units}]$`, maxLength: 6, description: `digits and a unit (${units})` });
