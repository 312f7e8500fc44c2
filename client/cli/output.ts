/** Terminal output helpers of the CLI: byte sizes, plain tables, a progress bar on a TTY. */
import type { SingleBar } from 'cli-progress';
import type { AuditEntry } from '../../contract/schemas.ts';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

/** `1 file`, `2 files`: a count with its noun in the right number. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function printTable(header: string[], rows: string[][]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export interface Bar {
  label: string;
  update(done: number): void;
  stop(): void;
}

export type MakeBar = (current: Bar | undefined, label: string, total: number) => Bar;

/**
 * Loads cli-progress (CommonJS, and only needed on a terminal, so not at start-up) and returns `bar`, which
 * reuses `current` while the label stays the same and otherwise starts a new bar (bytes, rate, ETA).
 */
export async function progressBars(): Promise<MakeBar> {
  // A CommonJS module's exports are its default export, both in Node and in the esbuild bundle.
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  return (current, label, total) => {
    if (current && current.label === label) return current;
    current?.stop();
    const started = Date.now();
    const b: SingleBar = new SingleBar(
      {
        // Fits 80 columns: cli-progress cuts lines at the terminal's width.
        format: `{bar} {percentage}% ${label} {done}/{size} {rate} ETA {eta_formatted}`,
        barsize: 20,
        hideCursor: true,
        stream: process.stderr,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    const payload = (done: number) => ({ done: formatBytes(done), size: formatBytes(total), rate: `${formatBytes(done / Math.max(0.001, (Date.now() - started) / 1000))}/s` });
    b.start(total, 0, payload(0));
    let stopped = false;
    return {
      label,
      update: (done) => b.update(done, payload(done)),
      stop: () => {
        if (!stopped) b.stop();
        stopped = true;
      },
    };
  };
}

/** Audit entries as a table: when, who, what, on which asset/version/alias or hook, moves and reasons. */
export function printAudit(items: readonly AuditEntry[]): void {
  printTable(
    ['AT', 'ACTOR', 'ACTION', 'SUBJECT', 'CHANGE', 'REASON'],
    items.map((e) => [
      e.at,
      e.actor,
      e.action,
      e.hook !== undefined ? `hook ${e.hook}` : [e.asset, e.version ?? e.alias].filter(Boolean).join(e.version ? ':' : ' '),
      e.from !== undefined || e.to !== undefined ? `${e.from ?? '-'} → ${e.to ?? '-'}` : '',
      e.reason ?? '',
    ]),
  );
}
