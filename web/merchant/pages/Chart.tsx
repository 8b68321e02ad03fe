/**
 * A bar chart of volume with a line of counts (Apache ECharts, only the parts used, drawn on a
 * canvas). The tooltip is drawn on the canvas too (`richText`): an HTML tooltip would carry inline
 * style attributes, which the portal's policy refuses.
 */
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import type { Point } from '../client.ts';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export function VolumeChart(props: {
  points: Point[];
  label: (p: Point) => string;
  volumeName: string;
  countName: string;
  title: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const { points, label, volumeName, countName } = props;
  useEffect(() => {
    if (!box.current) return;
    const chart = echarts.init(box.current);
    chart.setOption({
      grid: { left: 48, right: 40, top: 36, bottom: 28 },
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      legend: { data: [volumeName, countName], top: 0 },
      xAxis: { type: 'category', data: points.map(label) },
      yAxis: [
        { type: 'value', name: '' },
        { type: 'value', name: '', minInterval: 1, splitLine: { show: false } },
      ],
      series: [
        { name: volumeName, type: 'bar', data: points.map((p) => Number(p.volume)), itemStyle: { color: '#1677ff' } },
        {
          name: countName,
          type: 'line',
          yAxisIndex: 1,
          data: points.map((p) => p.count),
          itemStyle: { color: '#fa8c16' },
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [points, label, volumeName, countName]);
  return <div ref={box} className="chart" role="img" aria-label={props.title} />;
}
