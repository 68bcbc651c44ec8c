/** What one benchmark hands back to run-all, which turns every result into docs/PERFORMANCE.md. */

export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export interface TargetCheck {
  what: string;
  /** The measured ratio or value, formatted. */
  measured: string;
  target: string;
  /** null: could not be measured in this run (a tool is missing). */
  met: boolean | null;
  /** "+12% above the target" or "missed by 8%". */
  margin: string;
}

export interface BenchResult {
  id: string;
  title: string;
  /** How it was measured, one point per line. */
  method: string[];
  figures: Figure[];
  checks: TargetCheck[];
  /** Findings: why a target is missed, what would close it, anything odd in the run. */
  notes: string[];
  seconds: number;
}

export function percent(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
}

/** A ratio that must be at least `min`. */
export function ratioAtLeast(what: string, ratio: number, min: number): TargetCheck {
  if (!Number.isFinite(ratio)) return { what, measured: 'not measured', target: `≥ ${min}`, met: null, margin: '' };
  const met = ratio >= min;
  // Three digits when two would round a miss up to the target (0.796 is not 0.80).
  const digits = Math.abs(ratio - min) < 0.005 ? 3 : 2;
  const short = 1 - ratio / min;
  return {
    what,
    measured: ratio.toFixed(digits),
    target: `≥ ${min}`,
    met,
    margin: met ? `${percent(ratio / min - 1)} over` : `missed by ${(short * 100).toFixed(short < 0.01 ? 1 : 0)}% (${(min - ratio).toFixed(digits)})`,
  };
}

/** A value that must stay below `max`. */
export function valueBelow(what: string, value: number, max: number, unit: string, digits = 1): TargetCheck {
  if (!Number.isFinite(value)) return { what, measured: 'not measured', target: `< ${max} ${unit}`, met: null, margin: '' };
  const met = value < max;
  return {
    what,
    measured: `${value.toFixed(digits)} ${unit}`,
    target: `< ${max} ${unit}`,
    met,
    margin: met ? `${((1 - value / max) * 100).toFixed(0)}% headroom` : `missed by ${(value - max).toFixed(digits)} ${unit} (${percent(value / max - 1)})`,
  };
}

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function mb(bytes: number): number {
  return bytes / 1e6;
}

/** p-th percentile (0..100) of a list of numbers, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function renderSection(result: BenchResult): string {
  const lines: string[] = [];
  lines.push(`## ${result.title}`, '');
  lines.push('Method:', '', ...result.method.map((m) => `- ${m}`), '');
  lines.push('| figure | value |', '| --- | --- |');
  for (const f of result.figures) lines.push(`| ${f.name} | ${fmt(f.value, f.value >= 100 ? 0 : f.value >= 10 ? 1 : 2)} ${f.unit}${f.note ? ` (${f.note})` : ''} |`);
  lines.push('');
  if (result.checks.length > 0) {
    lines.push('| target | measured | wanted | result |', '| --- | --- | --- | --- |');
    for (const c of result.checks) lines.push(`| ${c.what} | ${c.measured} | ${c.target} | ${verdict(c)} |`);
    lines.push('');
  }
  if (result.notes.length > 0) lines.push(...result.notes.map((n) => `- ${n}`), '');
  lines.push(`_This benchmark took ${result.seconds.toFixed(0)} s._`, '');
  return lines.join('\n');
}

export function verdict(check: TargetCheck): string {
  if (check.met === null) return 'not measured';
  return check.met ? `met, ${check.margin}` : `**missed**, ${check.margin}`;
}
