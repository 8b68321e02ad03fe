/** What the portal's pages share: loading data, refusals in words, status tags, times, the signed-in member. */
import { Button, Result, Spin, Tag } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef } from 'react';
import { ApiError } from '../shared/api.ts';
import { formatTime, useLocale } from '../shared/i18n.tsx';
import { type Loaded, useLoad } from '../shared/load.ts';
import type { Me, Permission } from './client.ts';
import { type PortalWords, type T, useT } from './messages.ts';

/** A refusal as people read it: our words for the codes we know, the API's message otherwise. */
export function errorText(t: T, error: unknown): string {
  if (error instanceof ApiError) {
    const key = `error.${error.code}` as keyof PortalWords;
    const known = t(key, { message: error.message });
    return known === key ? t('error.generic', { message: error.message }) : known;
  }
  return t('error.generic', { message: String(error) });
}

export { type Loaded, useLoad };

/** The spinner, or the refusal with a retry, or the content once loaded. */
export function Loading<V>({ loaded, children }: { loaded: Loaded<V>; children: (data: V) => ReactNode }) {
  const t = useT();
  if (loaded.error !== undefined) {
    return (
      <Result
        status="warning"
        title={errorText(t, loaded.error)}
        extra={
          <Button type="primary" onClick={loaded.reload}>
            {t('common.retry')}
          </Button>
        }
      />
    );
  }
  if (loaded.data !== undefined) return <>{children(loaded.data)}</>;
  return (
    <div className="loading" role="status" aria-label={t('common.loading')}>
      <Spin />
    </div>
  );
}

/**
 * Solid tags with white words: Ant Design's light status tags (green words on pale green …) read
 * below 4.5:1; these colours read 6:1 and more.
 */
export const tagColours = { success: '#237804', processing: '#0958d9', warning: '#ad4e00', error: '#c41d1d' } as const;

const colours: Record<string, string> = {
  TRADE_SUCCESS: tagColours.success,
  TRADE_FINISHED: tagColours.success,
  WAIT_SELLER_SEND_GOODS: tagColours.warning,
  WAIT_BUYER_CONFIRM_GOODS: tagColours.processing,
  WAIT_SELLER_AGREE: tagColours.warning,
  WAIT_SELLER_CONFIRM_GOODS: tagColours.warning,
  WAIT_SELLER_EVIDENCE: tagColours.warning,
  WAIT_RULING: tagColours.processing,
  REFUND_SUCCESS: tagColours.success,
  SELLER_REFUSE_BUYER: tagColours.error,
  RULED_FOR_BUYER: tagColours.error,
  RULED_FOR_SELLER: tagColours.success,
};

/** A trade's, case's or dispute's status as a word in a coloured tag, never the raw code. */
export function StatusTag({ kind, status }: { kind: 'trade' | 'case' | 'dispute'; status: string }) {
  const t = useT();
  const key = `${kind}.${status}` as keyof PortalWords;
  const word = t(key);
  return <Tag color={colours[status] ?? 'default'}>{word === key ? t('common.none') : word}</Tag>;
}

/** What an empty table says, in words dark enough to read (the table's own grey is too light). */
export function Empty({ text }: { text: string }) {
  return <span className="empty">{text}</span>;
}

/** A time in Beijing time as the locale writes it; a dash for none. */
export function useTime(): (iso: string | null | undefined) => string {
  const { locale } = useLocale();
  return useCallback((iso) => (iso ? formatTime(iso, locale) : '—'), [locale]);
}

/** Who moved a trade, in words: the app, the buyer, Paybao's staff or Paybao itself. */
export function actorText(t: T, actor: string): string {
  if (actor.startsWith('app:')) return `${t('actor.app')} ${actor.slice(4)}`;
  if (actor.startsWith('buyer:')) return t('actor.buyer');
  if (actor.startsWith('operator:')) return t('actor.operator');
  return t('actor.system');
}

/** The signed-in member of staff, for pages that show only what the role may use. */
export const MeContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe needs the portal frame above it');
  return me;
}

export function useMay(): (permission: Permission) => boolean {
  const me = useMe();
  return useCallback((permission) => me.permissions.includes(permission), [me]);
}

/**
 * Days are Beijing days, as the API counts them (bills, the dashboard): today there, as a date
 * picker's value, whatever the browser's own time zone.
 */
export function beijingToday(): Dayjs {
  const wall = new Date(Date.now() + beijingOffsetMs + new Date().getTimezoneOffset() * 60_000);
  return dayjs(wall);
}

/** The instant a Beijing day (a picker's date) begins, as the API takes it. */
export function beijingDayStart(day: Dayjs): string {
  return new Date(`${day.format('YYYY-MM-DD')}T00:00:00+08:00`).toISOString();
}

const beijingOffsetMs = 8 * 3_600_000;

/** A fresh idempotency key for one refund intent (`out_request_no`): kept while the form is open. */
export function newRequestNo(): string {
  return `portal-${crypto.randomUUID().replaceAll('-', '')}`.slice(0, 40);
}

/**
 * Around a table that scrolls sideways on a narrow screen: its scrolling box is made reachable by
 * keyboard (a focusable, named region), since a table without links or buttons has no other stop.
 */
export function Scrollable({ label, children }: { label: string; children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    for (const region of box.current?.querySelectorAll<HTMLElement>('.ant-table-content') ?? []) {
      region.tabIndex = 0;
      region.setAttribute('role', 'region');
      region.setAttribute('aria-label', label);
    }
  });
  return <div ref={box}>{children}</div>;
}
