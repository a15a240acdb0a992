import type { Report } from './report.ts';

export interface ScenarioContext {
  /** How long the load phase runs (the scenario's default unless --duration). */
  seconds: number;
  /** Run on the embedded database instead of PostgreSQL (scenarios with `embedded: true`). */
  embedded: boolean;
  report: Report;
  /** Progress on stderr, so stdout holds only the figures. */
  log: (message: string) => void;
}

export interface Scenario {
  id: string;
  summary: string;
  /** 0: the scenario runs as long as its work takes (--duration does not apply). */
  defaultSeconds: number;
  /** Short enough for CI (all quick ones together in about 30 s). */
  quick: boolean;
  /** Can also run on the embedded database (--embedded). */
  embedded: boolean;
  run: (context: ScenarioContext) => Promise<void>;
}
