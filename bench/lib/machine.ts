import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import sharp from 'sharp';
import { REPO_ROOT } from './options.js';
import { onPath } from './load.js';
import { runCommand } from './processes.js';

async function firstLine(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await runCommand(command, args);
    return (stdout || stderr).split('\n').find((l) => l.trim())?.trim() ?? '?';
  } catch (error) {
    // wrk -v and nginx -v print their version and may exit non-zero
    return (error as Error).message.split('\n').find((l) => /\d+\.\d+/.test(l) && !l.includes('exited'))?.trim() ?? 'not installed';
  }
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
    `nginx: ${await firstLine('/usr/sbin/nginx', ['-v'])}; wrk: ${onPath('wrk') ? await firstLine('wrk', ['-v']) : 'not installed (autocannon is used)'}; curl: ${await firstLine('curl', ['--version'])}; ffmpeg: ${await firstLine('ffmpeg', ['-version'])}`,
    `Shoebox: commit ${commit}`,
  ];
}
