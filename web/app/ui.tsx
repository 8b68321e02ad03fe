/** What the wallet's pages share: loading data, refusals in words, the page frame with its back bar. */
import { Button, Dialog, DotLoading, ErrorBlock, Form, Input } from 'antd-mobile';
import { LeftOutline } from 'antd-mobile-icons';
import { type ComponentProps, type ComponentType, type ReactNode, useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError } from '../shared/api.ts';
import { type Loaded, useLoad } from '../shared/load.ts';
import { yuan } from '../shared/money.ts';
import { api } from './client.ts';
import { type T, useT } from './messages.ts';
import type { Balance } from './types.ts';

/** A refusal as the user reads it: our words for the codes we know, the API's message otherwise. */
export function errorText(t: T, error: unknown): string {
  if (error instanceof ApiError) {
    const known = t(`error.${error.code}` as Parameters<T>[0]);
    return known === `error.${error.code}` ? t('error.generic', { message: error.message }) : known;
  }
  return t('error.generic', { message: String(error) });
}

export { type Loaded, useLoad };

/** The loading dots, or the refusal with a retry, or the content once loaded. */
export function Loading<V>({ loaded, children }: { loaded: Loaded<V>; children: (data: V) => ReactNode }) {
  const t = useT();
  if (loaded.error !== undefined) {
    return (
      <ErrorBlock status="default" title={errorText(t, loaded.error)} description="">
        <button type="button" className="link-button" onClick={loaded.reload}>
          {t('common.retry')}
        </button>
      </ErrorBlock>
    );
  }
  if (loaded.data !== undefined) return <>{children(loaded.data)}</>;
  return (
    <div className="loading" role="status" aria-label={t('common.loading')}>
      <DotLoading color="primary" />
    </div>
  );
}

/** A page below the tabs: a title bar with the way back, then the page. */
export function SubPage({ title, children, back = '/' }: { title: string; children: ReactNode; back?: string }) {
  const navigate = useNavigate();
  const t = useT();
  return (
    <div className="sub-page">
      <header className="bar">
        <button type="button" className="bar-back" aria-label={t('common.back')} onClick={() => navigate(back)}>
          <LeftOutline aria-hidden />
        </button>
        <h1>{title}</h1>
      </header>
      <main className="sub-content">{children}</main>
    </div>
  );
}

/** The confirmation a money-moving request may be asked for: the challenge's id and the code texted. */
export interface ChallengeAnswer {
  challenge_id: string;
  challenge_code: string;
}

/**
 * Runs a money-moving request and, when the risk engine answers `challenge_required`, asks the
 * user for the texted code and sends the same request again (the same Idempotency-Key) with it.
 * Returns the runner and the dialog to render.
 */
export function useChallenge(): {
  run<R>(send: (answer?: ChallengeAnswer) => Promise<R>): Promise<R>;
  dialog: ReactNode;
} {
  const t = useT();
  const [asking, setAsking] = useState<{ id: string; resolve(code: string | null): void } | null>(null);
  const [code, setCode] = useState('');
  async function run<R>(send: (answer?: ChallengeAnswer) => Promise<R>): Promise<R> {
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'challenge_required' || !error.challengeId) throw error;
      const challengeId = error.challengeId;
      setCode('');
      const typed = await new Promise<string | null>((resolve) => setAsking({ id: challengeId, resolve }));
      setAsking(null);
      if (typed === null) throw error;
      return send({ challenge_id: challengeId, challenge_code: typed });
    }
  }
  const dialog = (
    <Dialog
      visible={asking !== null}
      title={t('challenge.title')}
      content={
        <div className="challenge">
          <p>{t('challenge.body')}</p>
          <CodeInput id="challenge-code" label={t('challenge.code')} value={code} onChange={setCode} />
        </div>
      }
      actions={[
        [
          { key: 'cancel', text: t('common.cancel'), onClick: () => asking?.resolve(null) },
          { key: 'ok', text: t('common.confirm'), bold: true, onClick: () => asking?.resolve(code) },
        ],
      ]}
    />
  );
  return { run, dialog };
}

/**
 * antd-mobile's form item, its label tied to the input by `htmlFor` (the component passes it to
 * its <label> though its types leave it out): the pages' inputs are controlled by the pages, not by
 * the form's store, so the item is given the input's id rather than a field name.
 */
export const FormItem = Form.Item as unknown as ComponentType<ComponentProps<typeof Form.Item> & { htmlFor?: string }>;

/** A refusal under a form, read out as it appears. */
export function FormError({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <div className="form-error" role="alert">
      {text}
    </div>
  );
}

/** A form's one big submit button. */
export function Submit({ busy, testId, children }: { busy: boolean; testId: string; children: ReactNode }) {
  return (
    <Button block type="submit" color="primary" size="large" loading={busy} data-testid={testId}>
      {children}
    </Button>
  );
}

/** A 6-digit code texted to the user (a login, a card binding, a confirmation). */
export function CodeInput(props: { id: string; value: string; onChange(value: string): void; label?: string }) {
  return (
    <Input
      id={props.id}
      aria-label={props.label}
      inputMode="numeric"
      autoComplete="one-time-code"
      maxLength={6}
      value={props.value}
      onChange={props.onChange}
    />
  );
}

/** The amount of a money-moving form, with what the wallet can spend under it. */
export function AmountItem({ value, onChange }: { value: string; onChange(value: string): void }) {
  const t = useT();
  const balance = useLoad(() => api.get<Balance>('/balance'), []);
  return (
    <FormItem
      label={t('common.amount')}
      htmlFor="amount"
      description={balance.data ? t('transfer.available', { amount: yuan(balance.data.available) }) : undefined}
    >
      <Input
        id="amount"
        className="amount-input"
        inputMode="decimal"
        placeholder={t('common.amountPlaceholder')}
        value={value}
        onChange={onChange}
      />
    </FormItem>
  );
}
