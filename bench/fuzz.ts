/**
 * The long fuzz run (issue 13): the same properties as test/security/fuzz.test.ts, as many
 * cases per door as asked, against a real server on 127.0.0.1 with its own data folder.
 * Exits 1 on any 5xx or any file/row left without its other half.
 *
 *   npm run fuzz -- --cases 5000 [--seed 42]
 */
import { parseArgs } from 'node:util';
import { orphansOf, runFuzz } from '../test/support/fuzz.js';
import { startTestServer } from '../test/support/server.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '2000' }, seed: { type: 'string' } } });
const cases = Number(values.cases);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isInteger(cases) || cases <= 0) throw new Error('--cases must be a positive whole number');

const server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_MAX_UPLOAD_SIZE: '2MB', SHOEBOX_GUEST_WEB_UPLOADS: '1' });
let failed = false;
try {
  const { key } = await server.createUserWithKey('fuzzer');
  console.log(`fuzzing ${cases} cases per door (seed ${seed}) against ${server.url}`);
  const started = Date.now();
  const report = await runFuzz(server, { cases, seed, key });
  console.log(`${report.requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${JSON.stringify(report.statuses)}`);
  const orphans = await orphansOf(server);
  if (report.serverErrors.length > 0) {
    failed = true;
    console.log(`5xx answers (${report.serverErrors.length}):\n${[...new Set(report.serverErrors)].slice(0, 50).join('\n')}`);
  }
  if (orphans.filesWithoutRow.length + orphans.rowsWithoutFiles.length + orphans.claimsWithoutRow.length > 0) {
    failed = true;
    console.log(`left behind: ${JSON.stringify(orphans)}`);
  }
  console.log(failed ? 'FAILED' : 'no 5xx, nothing left behind');
} finally {
  await server.close();
}
process.exit(failed ? 1 : 0);
