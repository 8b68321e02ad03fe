/**
 * Chinese and English for every app: the browser's language chooses at first (Chinese unless it
 * prefers English), a switch changes it and is remembered. Each app keeps its words in one
 * dictionary per language, typed by the English one so that no key is missing in Chinese.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';

export type Locale = 'zh' | 'en';
export type Messages = Record<string, string>;

const storageKey = 'paybao.locale';

/** The saved choice, else the first of the browser's languages that is Chinese or English. */
export function browserLocale(): Locale {
  const saved = localStorage.getItem(storageKey);
  if (saved === 'zh' || saved === 'en') return saved;
  for (const language of navigator.languages ?? [navigator.language]) {
    const tag = language.toLowerCase();
    if (tag.startsWith('zh')) return 'zh';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh';
}

const LocaleContext = createContext<{ locale: Locale; setLocale(locale: Locale): void } | null>(null);

export function LocaleProvider({ children }: { children: ReactNode }) {
  const [locale, setState] = useState<Locale>(browserLocale);
  useEffect(() => {
    document.documentElement.lang = locale === 'zh' ? 'zh-CN' : 'en';
  }, [locale]);
  const value = useMemo(
    () => ({
      locale,
      setLocale(next: Locale) {
        localStorage.setItem(storageKey, next);
        setState(next);
      },
    }),
    [locale],
  );
  return <LocaleContext.Provider value={value}>{children}</LocaleContext.Provider>;
}

export function useLocale(): { locale: Locale; setLocale(locale: Locale): void } {
  const context = useContext(LocaleContext);
  if (!context) throw new Error('useLocale needs a LocaleProvider above it');
  return context;
}

/** Fills `{name}` placeholders. */
function fill(text: string, vars?: Record<string, string | number>): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** A translating function over an app's dictionaries, for the chosen language: `t('key', { name: value })`. */
export function useTranslation<M extends Messages>(dictionaries: Record<Locale, M>) {
  const { locale } = useLocale();
  return useCallback(
    (key: keyof M & string, vars?: Record<string, string | number>) => fill(dictionaries[locale][key] ?? key, vars),
    [dictionaries, locale],
  );
}

/** A date-time as people of the locale write it, in Beijing time. */
export function formatTime(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
}
