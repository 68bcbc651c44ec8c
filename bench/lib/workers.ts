import { readFileSync } from 'node:fs';

/**
 * Runs `job` on `concurrency` workers until `seconds` have passed: a worker starts a new job
 * only before the deadline, and the run ends when the last one finishes, so rate =
 * completed / elapsed the same way for Shoebox and for its reference.
 */
export async function runForDuration(concurrency: number, seconds: number, job: (worker: number, n: number) => Promise<void>): Promise<{ completed: number; elapsed: number; rate: number }> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let completed = 0;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        await job(worker, n++);
        completed++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { completed, elapsed, rate: completed / elapsed };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 0, utime 11, stime 12.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
