/** Log in with phone and password, or phone and an SMS code (`POST /sessions`, `POST /sms-codes`). */
import { Button, Form, Input, Tabs } from 'antd-mobile';
import { useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useLocale } from '../../shared/i18n.tsx';
import { api, sessions } from '../client.ts';
import { useT } from '../messages.ts';
import type { SessionBody } from '../types.ts';
import { CodeInput, errorText, FormError, FormItem, Submit } from '../ui.tsx';

const phonePattern = /^\+?[0-9][0-9 -]{6,22}$/;
const resendS = 60;

export function Login() {
  const t = useT();
  const navigate = useNavigate();
  const location = useLocation();
  const [mode, setMode] = useState<'password' | 'sms'>('password');
  const [phone, setPhone] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [resendIn, setResendIn] = useState(0);
  const [note, setNote] = useState<string | null>(null);

  useEffect(() => {
    if (resendIn <= 0) return;
    const timer = setTimeout(() => setResendIn(resendIn - 1), 1000);
    return () => clearTimeout(timer);
  }, [resendIn]);

  const from = (location.state as { from?: string } | null)?.from ?? '/';

  async function sendCode() {
    if (!phonePattern.test(phone)) return setError(t('login.phoneInvalid'));
    setError(null);
    try {
      await api.post('/sms-codes', { phone });
      setResendIn(resendS);
      setNote(t('login.codeSent'));
    } catch (e) {
      setError(errorText(t, e));
    }
  }

  async function logIn() {
    if (!phonePattern.test(phone)) return setError(t('login.phoneInvalid'));
    setBusy(true);
    setError(null);
    try {
      const body = mode === 'password' ? { phone, password: secret } : { phone, sms_code: secret };
      const session = await api.post<SessionBody>('/sessions', body);
      sessions.set({ token: session.token, userId: session.user_id, expiresAt: session.expires_at });
      navigate(from, { replace: true });
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login">
      <LanguageSwitch />
      <main className="login-main">
        <div className="brand" aria-hidden>
          P
        </div>
        <h1>{t('login.title')}</h1>
        <p className="muted">{t('login.subtitle')}</p>
        <Tabs
          activeKey={mode}
          onChange={(key) => {
            setMode(key as 'password' | 'sms');
            setSecret('');
            setError(null);
          }}
        >
          <Tabs.Tab title={t('login.byPassword')} key="password" />
          <Tabs.Tab title={t('login.bySms')} key="sms" />
        </Tabs>
        <Form
          layout="vertical"
          onFinish={logIn}
          footer={
            <Submit busy={busy} testId="login-submit">
              {t('login.submit')}
            </Submit>
          }
        >
          <FormItem label={t('login.phone')} htmlFor="phone">
            <Input
              id="phone"
              type="tel"
              inputMode="tel"
              autoComplete="username"
              placeholder={t('login.phonePlaceholder')}
              value={phone}
              onChange={setPhone}
              clearable
            />
          </FormItem>
          {mode === 'password' ? (
            <FormItem label={t('login.password')} htmlFor="password">
              <Input
                id="password"
                type="password"
                autoComplete="current-password"
                placeholder={t('login.passwordPlaceholder')}
                value={secret}
                onChange={setSecret}
              />
            </FormItem>
          ) : (
            <FormItem
              label={t('login.code')}
              htmlFor="sms-code"
              extra={
                <Button
                  size="small"
                  fill="none"
                  color="primary"
                  disabled={resendIn > 0}
                  onClick={sendCode}
                  data-testid="send-code"
                >
                  {resendIn > 0 ? t('login.resendIn', { s: resendIn }) : t('login.sendCode')}
                </Button>
              }
            >
              <CodeInput id="sms-code" value={secret} onChange={setSecret} />
            </FormItem>
          )}
          {note && !error && (
            <p className="form-note" role="status">
              {note}
            </p>
          )}
          <FormError text={error} />
        </Form>
      </main>
    </div>
  );
}

/** 中文 / English, remembered in the browser. */
export function LanguageSwitch() {
  const t = useT();
  const { locale, setLocale } = useLocale();
  return (
    <button
      type="button"
      className="lang-switch"
      id="lang-switch"
      lang={locale === 'zh' ? 'en' : 'zh-CN'}
      onClick={() => setLocale(locale === 'zh' ? 'en' : 'zh')}
    >
      {t('lang.switch')}
    </button>
  );
}
