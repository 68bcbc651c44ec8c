import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import sharp from 'sharp';
import { REPO_ROOT } from './options.js';
import { onPath } from './load.js';
import { runCommand } from './processes.js';

/** The first words of a tool's version line ("curl 7.88.1", "nginx version: nginx/1.22.1"). */
async function versionOf(command: string, args: string[], words = 3): Promise<string> {
  let line: string | undefined;
  try {
    const { stdout, stderr } = await runCommand(command, args);
    line = (stdout || stderr).split('\n').find((l) => l.trim());
  } catch (error) {
    // wrk -v prints its version and exits non-zero
    line = (error as Error).message.split('\n').find((l) => /\d+\.\d+/.test(l) && !l.includes('exited'));
  }
  return line ? line.trim().split(/\s+/).slice(0, words).join(' ') : 'not installed';
}

/** What the figures were measured on; ratios travel between machines, absolute numbers do not. */
export async function describeMachine(): Promise<string[]> {
  const cpuList = cpus();
  let commit = '?';
  try {
    commit = (await runCommand('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'])).stdout.trim();
    const dirty = (await runCommand('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'])).stdout.trim();
    if (dirty) commit += ' plus uncommitted changes';
  } catch {
    // not a git checkout
  }
  return [
    `CPU: ${cpuList.length} × ${cpuList[0]?.model ?? '?'}; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at the start); Linux ${release()}`,
    `Load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(', ')} (other work on the machine shows up here; the ratios are measured back to back to cancel most of it)`,
    `Node ${process.version}; sharp ${sharp.versions.sharp} with libvips ${sharp.versions.vips}; sharp.concurrency() ${sharp.concurrency()}`,
    `${await versionOf('/usr/sbin/nginx', ['-v'])}; ${onPath('wrk') ? await versionOf('wrk', ['-v'], 2) : 'wrk not installed (autocannon is used)'}; ${await versionOf('curl', ['--version'], 2)}; ${await versionOf('ffmpeg', ['-version'])}`,
    `Shoebox: commit ${commit}`,
  ];
}
