// The same percentile, formatting, timeouts and sections as the executor's benches, so their
// figures compare and their failures read alike.
export {
  MiB,
  ms,
  percentile,
  section,
  TimeoutError,
  within,
} from '../../../executor/bench/stats.ts';

export function ratio(value: number, baseline: number): string {
  return `${(value / baseline).toFixed(2)}x`;
}
