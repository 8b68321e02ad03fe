/**
 * An Apache ECharts chart, tree-shaken to what the console draws (lines on a grid, with a
 * tooltip and a legend), on a canvas: no style element, no script but this bundle's.
 */
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { type EChartsCoreOption, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

use([LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export function Chart({ option, label, id }: { option: EChartsCoreOption; label: string; id?: string }) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof init> | null>(null);
  useEffect(() => {
    if (!element.current) return;
    const made = init(element.current);
    chart.current = made;
    const resize = () => made.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      made.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    // No animation: the figures update every few seconds, and a screenshot shows what is there.
    chart.current?.setOption({ animation: false, ...option }, { notMerge: false });
  }, [option]);
  return <div ref={element} id={id} className="chart" role="img" aria-label={label} />;
}
