'use client';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

export interface Bucket {
  label: string;
  finished: number;
  failed: number;
  waitS: number | null;
}

const axis = { stroke: 'var(--muted)', fontSize: 12 };

export function ThroughputChart({ data }: { data: Bucket[] }) {
  return (
    <div
      className="chart-box"
      role="img"
      aria-label={`Runs finished per 5 minutes over the last hour: ${data.map((d) => d.finished).join(', ')}`}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke="var(--border)" vertical={false} />
          <XAxis dataKey="label" tick={axis} stroke="var(--border)" />
          <YAxis allowDecimals={false} tick={axis} stroke="var(--border)" />
          <Tooltip
            contentStyle={{
              background: 'var(--surface)',
              border: '1px solid var(--border)',
              color: 'var(--text)',
            }}
            cursor={{ fill: 'var(--surface-2)' }}
          />
          <Bar
            dataKey="finished"
            name="finished"
            stackId="a"
            fill="var(--accent)"
            isAnimationActive={false}
          />
          <Bar
            dataKey="failed"
            name="not completed"
            stackId="a"
            fill="var(--ansi-red)"
            isAnimationActive={false}
          />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function WaitChart({ data }: { data: Bucket[] }) {
  return (
    <div
      className="chart-box"
      role="img"
      aria-label="Average wait in the queue per 5 minutes over the last hour"
    >
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke="var(--border)" vertical={false} />
          <XAxis dataKey="label" tick={axis} stroke="var(--border)" />
          <YAxis tick={axis} stroke="var(--border)" unit=" s" />
          <Tooltip
            contentStyle={{
              background: 'var(--surface)',
              border: '1px solid var(--border)',
              color: 'var(--text)',
            }}
          />
          <Line
            dataKey="waitS"
            name="average wait (s)"
            stroke="var(--accent)"
            strokeWidth={2}
            // A dot per bucket with runs: a line through a single bucket has no length to draw.
            dot={{ r: 3, fill: 'var(--accent)', strokeWidth: 0 }}
            connectNulls
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
