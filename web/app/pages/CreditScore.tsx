/**
 * The credit score (`GET /me/credit-score`): the score now and its band (or why there is none),
 * what would raise it (the reasons, the largest gain first), and the nightly history as a line
 * chart. ECharts comes in this page's own chunk, never with the first page; the chart draws on a
 * canvas (no style element, so the app's CSP holds) and labels itself for screen readers.
 */

import { LineChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { Link } from 'react-router';
import { useLocale } from '../../shared/i18n.tsx';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { CreditScore as CreditScoreBody } from '../types.ts';
import { Loading, SubPage, useLoad } from '../ui.tsx';

echarts.use([LineChart, GridComponent, TooltipComponent, CanvasRenderer]);

export default function CreditScore() {
  const t = useT();
  const { locale } = useLocale();
  const credit = useLoad(() => api.get<CreditScoreBody>('/me/credit-score'), []);
  return (
    <SubPage title={t('credit.title')} back="/me">
      <Loading loaded={credit}>
        {(c) => (
          <>
            <section className="credit-dial" aria-labelledby="credit-score">
              {c.score === null ? (
                <div className="credit-score none" id="credit-score">
                  {t('credit.none')}
                </div>
              ) : (
                <>
                  <div className="credit-score" id="credit-score">
                    {c.score}
                  </div>
                  {c.band && (
                    <div className={`credit-band band-${c.band.toLowerCase()}`} id="credit-band">
                      {t(`credit.band.${c.band}`)}
                    </div>
                  )}
                </>
              )}
              <p className="muted small">
                {t('credit.computedAt', {
                  time: new Date(c.computed_at).toLocaleString(locale === 'zh' ? 'zh-CN' : 'en-GB'),
                })}
              </p>
            </section>
            <h2 className="section-title">{c.score === null ? t('credit.noneWhy') : t('credit.raise')}</h2>
            {c.reasons.length === 0 ? (
              <p className="empty">{t('credit.raiseNone')}</p>
            ) : (
              <ol className="credit-reasons" id="credit-reasons">
                {c.reasons.map((r) => (
                  <li key={r} data-reason={r}>
                    {t(`credit.reason.${r}`)}
                  </li>
                ))}
              </ol>
            )}
            {c.reasons.includes('REAL_NAME_MISSING') && (
              <Link to="/real-name" className="button-link outline" id="verify-real-name">
                {t('credit.verify')}
              </Link>
            )}
            <h2 className="section-title">{t('credit.history')}</h2>
            {c.history.some((h) => h.score !== null) ? (
              <HistoryChart history={c.history} label={t('credit.chartLabel')} />
            ) : (
              <p className="empty">{t('credit.historyEmpty')}</p>
            )}
            <p className="muted small credit-range">{t('credit.range')}</p>
          </>
        )}
      </Loading>
    </SubPage>
  );
}

/** The nightly scores as a line (days with no score leave a gap). */
function HistoryChart({ history, label }: { history: CreditScoreBody['history']; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const chart = echarts.init(box.current, undefined, { renderer: 'canvas' });
    chart.setOption({
      aria: { enabled: true, label: { description: label } },
      animation: false,
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: history.map((h) => h.day.slice(5)), boundaryGap: false },
      yAxis: { type: 'value', min: 350, max: 950, interval: 150 },
      series: [
        {
          type: 'line',
          data: history.map((h) => h.score),
          connectNulls: false,
          showSymbol: history.length <= 31,
          lineStyle: { width: 2, color: '#1677ff' },
          itemStyle: { color: '#1677ff' },
          areaStyle: { color: 'rgba(22, 119, 255, 0.08)' },
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [history, label]);
  return <div ref={box} className="credit-chart" id="credit-chart" role="img" aria-label={label} />;
}
