/**
 * The hand-written part of docs/PERFORMANCE.md: what profiling showed behind each figure,
 * what was changed in src/ because of it, and what would close the gaps that remain. It is
 * analysis as of when it was written (2 × AMD EPYC cores shared with other work, Node 20);
 * re-check it when the code it names changes.
 */
export const FINDINGS = `## What was changed because of these benchmarks

- **One decode for the thumb and the medium** (\`src/media/image.ts\`, \`decodeOnceForDerivatives\`).
  sharp's \`clone()\` shares the input, not the decoded pixels, so the thumb and the medium each
  decoded the whole 12 MP JPEG again. Now the source is decoded once, shrunk on load to the smallest
  size both can still be cut from (500 × 375 for a 4000 × 3000 photo), into a raw buffer that both
  are cut from; past 4 MP of shared copy (very long strips) each derivative still streams from the
  source. CPU per 12 MP photo for the two derivatives fell from about 100 ms to about 62 ms
  (bench: "bare sharp" vs "one shared decode"). Tests: \`test/media/shared-decode.test.ts\` (sizes,
  centre crop, 16-bit PNG colours, alpha, both sides of the cap) and the media suite.
- **256 KiB file reads when serving** (\`src/storage/local.ts\`): a quarter of the thread-pool round
  trips and socket writes per file; server CPU per request for the 50 KB–5 MB mix fell by roughly
  a third in back-to-back runs (64 KiB vs 256 KiB on the same files).
- **1 MiB spool buffers** (\`src/ingest/spool.ts\`): the upload socket keeps being read while a
  disk write is in flight, instead of pausing on Node's 16 KiB default for every 64 KiB chunk.

## Why the missed targets are missed, and what would close them

**Serving (Shoebox 0.4–0.5 of nginx, 0.2 under heavy load; on a quiet machine as fast as a bare
Node static server).** nginx hands the
file to the kernel with \`sendfile\`: about 0.4 ms of CPU per request for this mix. Node has no
sendfile for HTTP; every byte is read into a JavaScript buffer on the thread pool and written to
the socket again, about 1.6 ms per request. Shoebox's own work (the database lookup, headers,
conditional and range handling) costs little on top of that: Shoebox matched the bare \`http\` +
\`createReadStream\` reference on a quiet machine (0.5–0.9 of it with other suites running), and
that reference itself reaches only about 0.45–0.55 of nginx here. No tuning inside Node closes that. What would: let nginx send the bytes after Shoebox has
decided. Either (a) an \`X-Accel-Redirect\` mode: \`web/media-files.ts\` keeps the lookup, the
expiry check and the headers, then answers with \`X-Accel-Redirect: /protected-files/<key>\` and an
\`internal\` nginx location aliasing the data folder sends it (about nginx speed, with every
Shoebox rule kept; needs a setting and a line in \`deploy/nginx/shoebox.conf\`); or (b) today,
\`SHOEBOX_MEDIA_BASE_URL\` pointing at nginx or a CDN serving the storage directly (full speed,
but expired and deleted files are then served until the files are gone).

**Big upload (Shoebox 0.80 of a pipe to disk on a quiet machine, just under the target at
0.796; 0.35–0.6 with other suites running).** The API must answer with the file's md5
(Chevereto's \`md5\`/\`checksum\`, and what \`SHOEBOX_REFUSE_DUPLICATES\` compares). md5 costs about
1–1.4 CPU-ms per MB, and on 2 cores it competes with curl and the disk writes: the same bare pipe
with an md5 added (the diagnostic row) loses a fifth to a half of its speed, and Shoebox runs at
0.75–1.0 of that hashing pipe (busboy's multipart parsing costs about 0.3 CPU-s per GB, and the
video's probe and frame follow once the body is in; the 1 MiB spool buffers above brought
Shoebox's CPU per GB under the hashing pipe's). Hashing in a worker thread was tried: no gain on 2 cores (the CPU is
already full); it would help on machines with spare cores. Memory stays flat: the
body streams to disk, so 8 concurrent 300 MB uploads added 1–35 MB in these runs (the
spool buffers hold at most 2 MiB per upload).

**Viewer pages (≈ 0.2 of hello world, was 0.02).** The viewer page used to cost about 1.9–3 ms of
CPU against hello world's 0.03–0.05 ms: a full server-rendered page (Eta, i18next, embed codes,
several queries and an \`UPDATE\` of the views on every request). Now: anonymous visitors get the
rendered page from an in-memory page cache (\`web/page-cache.ts\`; per image, language and NSFW
choice, checked on every request against the rows the page shows, served for at most 5 s, after
access is decided from the database), views are counted in memory and written in batches every
2 s (\`web/view-counter.ts\`), \`Formats\` are built once per language and time zone, i18next
strings asked for without options are looked up once per language (\`web/i18n.ts\`), and
better-sqlite3 statements are prepared once (LRU in \`db/database.ts\`). The anonymous page now
costs about 0.15–0.17 ms (ratio 0.19–0.21); a signed-in owner's page, still rendered every time,
about 0.6 ms (was about 1.6 ms). What is left on the cached path, measured by cutting the route
short at each step: the web site's hooks (cookies, visitor, session check, headers) about 0.015 ms;
the one query that must run (image row with its tag ids; 0.014 ms in a tight loop, 0.05–0.06 ms
inside the busy server process); a CSRF token for the visitor, plus a new CSRF secret and its
cookie because wrk sends no cookies (random bytes, HMAC, Set-Cookie: 0.025–0.05 ms; a browser
that sends its cookie back skips the secret); then the lookup and send. Reaching 0.5 (about
0.06 ms) would need what the rules forbid or change behaviour: trusting an in-process access
decision instead of reading the row (unsafe with several instances), or pages for anonymous
visitors without a CSRF token in them (fetching one only when a form is used), plus a lookup
that bypasses Kysely for this one query.

**Start-up (met on a quiet machine) and listing (met).** With other test suites running on the
same 2 cores, start-up took up to 2.3 s; quiet, about 1 s. It is module loading (fastify, kysely's many ES
modules, sharp, @tus/server, prom-client...) plus about 0.15 s for npm itself. Loading @tus/server
and the metrics registry lazily would buy margin; a bundled \`dist\` would buy more. Listing walks
\`images_user_id (user_id, id)\` (or \`images_user_listed_id\`) as a keyset range, so page 5,000 costs
what page 1 costs; its p99 is set by the machine's scheduling noise, not by the query (p50 is well
under a millisecond).

**Ingest (met).** Shoebox now does less pixel work than the plain \`clone()\` reference; against the
stricter one-decode reference the ratio (about 0.65–0.7) is the cost of the HTTP request: receiving
and parsing 4–5 MB of multipart, md5 and spooling (about 20 CPU-ms per upload), the name claim, the
insert and the answer. On a busy machine the upload path also waits on libuv's thread pool, which
sharp's jobs share with every file-system call: operators can start the server with
\`UV_THREADPOOL_SIZE=16\` (it must be in the environment; the ES module loader has already started
the pool before any of Shoebox's code runs, so it cannot be set from inside).
`;
