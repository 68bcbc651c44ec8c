import { createUserWithKey, startShoebox } from './lib/shoebox.js';
import { runCommand } from './lib/processes.js';
import { cpuSecondsOf } from './lib/workers.js';
const s = await startShoebox({ dataDir: `/tmp/bigprof/data-${Date.now()}`, logFile: '/tmp/bigprof/log', env: { SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_MAX_UPLOAD_SIZE: '2GB', SHOEBOX_LOG_LEVEL: 'debug', ...(process.env.HWM ? { BENCH_SPOOL_HWM: process.env.HWM } : {}) }, nodeArgs: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/bigprof/prof'] : [] });
const key = await createUserWithKey(s.env, 'bench');
for (let i = 0; i < 2; i++) {
  const c0 = cpuSecondsOf(s.child.pid);
  const { stdout } = await runCommand('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{time_total}', '-H', 'Expect:', '-H', `X-API-Key: ${key}`, '-F', 'source=@/tmp/big.mp4;type=video/mp4', `${s.url}/api/1/upload`]);
  console.log(stdout, 'server cpu s', (cpuSecondsOf(s.child.pid) - c0).toFixed(2));
}
await s.stop();
