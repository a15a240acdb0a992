import os from 'node:os';

/**
 * What one scenario found: its figures, in the order measured, and its checks. A failed check
 * makes the CLI exit non-zero, so CI can run the quick scenarios as assertions.
 */
export class Report {
  readonly figures: Array<{ label: string; value: string }> = [];
  readonly failures: string[] = [];

  figure(label: string, value: string | number): void {
    this.figures.push({ label, value: typeof value === 'number' ? formatNumber(value) : value });
  }

  check(label: string, ok: boolean, detail = ''): void {
    this.figures.push({ label: `check: ${label}`, value: `${ok ? 'PASS' : 'FAIL'}${detail ? ` (${detail})` : ''}` });
    if (!ok) this.failures.push(detail ? `${label}: ${detail}` : label);
  }
}

/** The machine is shared: every figure is printed next to the load average it was measured under. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
}

export function printReport(scenario: string, report: Report, context: { seconds: number; started: Date; loadBefore: string }): void {
  const lines = [
    `### ${scenario}`,
    '',
    `${context.started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.availableParallelism()} CPUs, Node ${process.version}, ` +
      `duration ${context.seconds ? `${context.seconds} s` : 'as long as the work takes'}, load average before ${context.loadBefore}, after ${loadAverage()}`,
    '',
    '| figure | value |',
    '| --- | --- |',
    ...report.figures.map(({ label, value }) => `| ${label} | ${value} |`),
    '',
  ];
  console.log(lines.join('\n'));
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en') : value.toLocaleString('en', { maximumFractionDigits: 1 });
}
