import cliProgress from 'cli-progress';

export interface Progress {
  /** Counts `n` more items done (copied, or found already copied by an earlier run). */
  advance(n?: number, note?: string): void;
  /** Changes the total (e.g. once a table's size is known). */
  setTotal(total: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr, so stdout stays for results and scripts. On a terminal it redraws
 * in place; in a log (systemd, CI) it prints a plain line every few seconds instead.
 */
export function startProgress(label: string, total: number, stream: NodeJS.WritableStream = process.stderr): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% {value}/{total} {note} (eta {eta_formatted})`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 200,
    },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  bar.start(total, 0, { note: '' });
  return {
    advance(n = 1, note) {
      value += n;
      bar.update(value, note === undefined ? undefined : { note });
    },
    setTotal(newTotal) {
      bar.setTotal(newTotal);
    },
    stop() {
      bar.stop();
    },
  };
}
