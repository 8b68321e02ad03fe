/** Me: the account, the language, the cards, and logging out (`DELETE /sessions/current`). */
import { Dialog, List } from 'antd-mobile';
import { useNavigate } from 'react-router';
import { useLocale } from '../../shared/i18n.tsx';
import { api, sessions } from '../client.ts';
import { useT } from '../messages.ts';
import type { Me as MeBody } from '../types.ts';
import { Loading, useLoad } from '../ui.tsx';

export default function Me() {
  const t = useT();
  const navigate = useNavigate();
  const { locale, setLocale } = useLocale();
  const me = useLoad(() => api.get<MeBody>('/me'), []);

  async function logOut() {
    const ok = await Dialog.confirm({
      content: t('me.logoutConfirm'),
      confirmText: t('me.logout'),
      cancelText: t('common.cancel'),
    });
    if (!ok) return;
    await api.delete('/sessions/current').catch(() => undefined);
    sessions.set(null);
    navigate('/login', { replace: true });
  }

  return (
    <div className="me">
      <header className="page-head">
        <h1>{t('me.title')}</h1>
      </header>
      <Loading loaded={me}>
        {(m) => (
          <section className="profile">
            <div className="avatar" aria-hidden>
              {m.logon_id.slice(-2)}
            </div>
            <div>
              <div className="profile-name" id="logon-id">
                {m.logon_id}
              </div>
              <div className="muted nowrap">{m.user_id}</div>
            </div>
          </section>
        )}
      </Loading>
      <List className="facts">
        <List.Item onClick={() => navigate('/trades')} arrowIcon data-testid="my-trades">
          {t('me.trades')}
        </List.Item>
        <List.Item onClick={() => navigate('/cards')} arrowIcon>
          {t('me.cards')}
        </List.Item>
        <List.Item
          extra={locale === 'zh' ? '中文' : 'English'}
          onClick={() => setLocale(locale === 'zh' ? 'en' : 'zh')}
          arrowIcon
        >
          {t('lang.label')}
        </List.Item>
      </List>
      <button type="button" className="logout" onClick={logOut} id="logout">
        {t('me.logout')}
      </button>
    </div>
  );
}
