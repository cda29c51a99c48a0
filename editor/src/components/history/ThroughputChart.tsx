import type { BatchSummary } from '@sluice/shared';
import { useEffect, useMemo, useRef, useState } from 'react';
import { formatDuration } from '../../lib/format';
import {
  computeThroughput,
  formatOffset,
  formatRate,
  niceTicks,
  type Throughput,
  timeTicks,
} from '../../lib/history/throughput';
import { HistoryNote } from './states';
import './history.css';

export interface ThroughputChartProps {
  /** The run's batches (RunDetail.batches), in any order; unfinished ones count what they have done so far. */
  batches: BatchSummary[];
  /** Height of the plot in px (default 180); the width follows the container. */
  height?: number;
}

const MARGIN = { top: 12, right: 14, bottom: 34, left: 46 };

/** The width of an element, followed as it changes. */
function useWidth(fallback: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => {
      const next = Math.floor(element.getBoundingClientRect().width);
      if (next > 0) setWidth(next);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

/**
 * Records per second over a run as an area chart: x is the time since the first batch started, y the rate
 * per time bucket (1 s, wider for long runs), with the total, average and peak above it. Pauses between
 * batches show as drops to 0. Shows a note instead when there is nothing to draw.
 */
export function ThroughputChart({ batches, height = 180 }: ThroughputChartProps) {
  const { ref, width } = useWidth(480);
  const result = useMemo(() => computeThroughput(batches), [batches]);

  return (
    <section className="history-panel throughput-chart" data-testid="throughput-chart" aria-label="Throughput">
      <div ref={ref} className="throughput-body">
        {batches.length === 0 || result === null ? (
          <HistoryNote kind="empty" testId="throughput-empty">
            {batches.length === 0
              ? 'No batches yet: the chart fills in as the run processes records.'
              : 'The first batch is under way: the chart starts when it has finished records.'}
          </HistoryNote>
        ) : (
          <Plot result={result} width={width} height={height} />
        )}
      </div>
    </section>
  );
}

function Plot({ result, width, height }: { result: Throughput; width: number; height: number }) {
  const { points } = result;
  const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotHeight = Math.max(40, height - MARGIN.top - MARGIN.bottom);
  const maxT = Math.max(points[points.length - 1]?.tEnd ?? 1, 0.001);
  const yTicks = niceTicks(result.peakRate, 4);
  const maxY = yTicks[yTicks.length - 1] ?? 1;
  const xTicks = timeTicks(maxT, Math.max(2, Math.floor(plotWidth / 90))).filter((t) => t <= maxT + 1e-9);
  // A run shorter than the first round tick gets its end marked instead.
  if (xTicks.length < 2) xTicks.push(maxT);
  const x = (t: number) => MARGIN.left + (t / maxT) * plotWidth;
  const y = (rate: number) => MARGIN.top + plotHeight - (Math.min(rate, maxY) / maxY) * plotHeight;
  const base = y(0);

  // A step line: each bucket is flat over its time span.
  let line = '';
  for (const [i, p] of points.entries()) {
    line += `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.rate).toFixed(1)}L${x(p.tEnd).toFixed(1)},${y(p.rate).toFixed(1)}`;
  }
  const first = points[0];
  const last = points[points.length - 1];
  const area =
    first && last
      ? `M${x(first.t).toFixed(1)},${base}${line.replace(/^M/, 'L')}L${x(last.tEnd).toFixed(1)},${base}Z`
      : '';
  const bucket = result.bucketSeconds === 1 ? 'second' : formatOffset(result.bucketSeconds);

  return (
    <>
      <div className="throughput-stats">
        <span>
          <strong data-testid="throughput-total">{result.totalRecords.toLocaleString()}</strong> records in{' '}
          {formatDuration(result.durationSeconds * 1000)}
        </span>
        <span>
          average <strong data-testid="throughput-average">{formatRate(result.averageRate)}</strong>/s
        </span>
        <span>
          peak <strong data-testid="throughput-peak">{formatRate(result.peakRate)}</strong>/s
        </span>
        {result.unfinishedBatches > 0 && (
          <span className="throughput-running">
            {result.unfinishedBatches} batch{result.unfinishedBatches === 1 ? '' : 'es'} under way
          </span>
        )}
      </div>
      <div className="throughput-plot">
        <svg
          width={width}
          height={height}
          viewBox={`0 0 ${width} ${height}`}
          role="img"
          aria-label={`Records per second over ${formatOffset(maxT)}: average ${formatRate(result.averageRate)}, peak ${formatRate(result.peakRate)}`}
        >
          {yTicks.map((tick) => (
            <g key={`y${tick}`}>
              <line
                className="throughput-grid"
                x1={MARGIN.left}
                x2={MARGIN.left + plotWidth}
                y1={y(tick)}
                y2={y(tick)}
              />
              <text className="throughput-tick" x={MARGIN.left - 6} y={y(tick)} dy="0.32em" textAnchor="end">
                {formatRate(tick)}
              </text>
            </g>
          ))}
          {xTicks.map((tick) => (
            <g key={`x${tick}`}>
              <line className="throughput-axis" x1={x(tick)} x2={x(tick)} y1={base} y2={base + 4} />
              <text
                className="throughput-tick"
                x={x(tick)}
                y={base + 16}
                textAnchor={tick === 0 ? 'start' : x(tick) > MARGIN.left + plotWidth - 24 ? 'end' : 'middle'}
              >
                {formatOffset(tick)}
              </text>
            </g>
          ))}
          <line className="throughput-axis" x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={base} y2={base} />
          <path className="throughput-area" d={area} />
          <path className="throughput-line" d={line} />
          {points.map((p) => (
            <rect
              key={p.t}
              className="throughput-hit"
              x={x(p.t)}
              y={MARGIN.top}
              width={Math.max(1, x(p.tEnd) - x(p.t))}
              height={plotHeight}
            >
              <title>
                {`${formatOffset(p.t)}–${formatOffset(p.tEnd)}: ${formatRate(p.rate)} records/s (${Math.round(p.records).toLocaleString()} records)`}
              </title>
            </rect>
          ))}
          <text className="throughput-label" x={MARGIN.left + plotWidth} y={height - 2} textAnchor="end">
            time since the first batch started
          </text>
          <text
            className="throughput-label"
            transform={`translate(11 ${MARGIN.top + plotHeight / 2}) rotate(-90)`}
            textAnchor="middle"
          >
            records / s
          </text>
        </svg>
      </div>
      <p className="muted small throughput-note">Rate per {bucket}.</p>
    </>
  );
}
