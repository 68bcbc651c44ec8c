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
- **Files sent in 1 MiB reads written straight to the socket** (\`src/storage/local.ts\`
  \`FileChunks\`, \`src/web/media-files.ts\` \`sendChunks\`). Piping \`fs.createReadStream\` into the
  response (Fastify's way) cost about 1.6 ms of server CPU per file of this mix and reached 0.4–0.5
  of nginx. Measured side by side on the same files: a plain loop that reads 1 MiB with \`fs.read\`
  on a descriptor and \`write()\`s it, waiting for \`drain\` only when the socket is full, serves
  the mix about 1.3× faster than the stream pipe (256 KiB or 1 MiB chunks alike), and the size
  comes from the database row, so there is no \`fstat\`. One chunk per response is held in memory;
  a client that hangs up ends the read and closes the file (tests: \`test/storage/local.test.ts\`,
  \`test/api/files-viewer-delete.test.ts\`).
- **md5 on a worker thread** (\`src/ingest/md5-hasher.ts\`). Past the first MiB of an upload the
  bytes go to one shared hashing thread in 1 MiB batches (moved, not copied), at most two waiting
  per upload (backpressure to the socket), and the worker hands each batch back to be filled
  again (no new memory per MiB); files under a MiB are still hashed in place. The main thread
  keeps parsing multipart and writing the spool while md5 runs beside it. Back to back on this
  machine: one 1 GB upload at 270–295 MB/s with md5 on the main thread (0.48–0.52 of the plain
  pipe), 300–430 MB/s with the worker (0.54–0.82), and less CPU per GB (3.1–4.2 s against
  4.0–4.4 s). The cost is memory: up to 3 MiB of batches per large upload in flight.
- **1 MiB spool buffers** (\`src/ingest/spool.ts\`): the upload socket keeps being read while a
  disk write is in flight, instead of pausing on Node's 16 KiB default for every 64 KiB chunk.
- **Viewer pages: a page cache with a query-free second** (\`src/web/page-cache.ts\`,
  \`routes/viewer-page.ts\`; docs/WEB.md "Page cache"). Visitors without a session share one rendered
  copy per image, language and NSFW choice, checked against the rows the page shows (any edit on
  any instance renders again) after access is decided from the database. For one second after such
  a check a page anyone may see is served again without a query, unless anything was changed
  through this process meanwhile (any POST/PUT/PATCH/DELETE or the delete URL ends the window);
  another instance's change shows within that second. The footer's two preference forms are
  checked by \`Origin\` instead of a CSRF token, so such pages carry no token and set no CSRF cookie
  (making a secret, an HMAC and a Set-Cookie for every new visitor cost 25–50 µs). Views are counted
  in memory and added to the row in batches every 2 s (\`web/view-counter.ts\`) instead of an
  \`UPDATE\` per view. For every page, cached or not: one \`Formats\` per language and time zone,
  i18next strings without options looked up once per language, and better-sqlite3 statements
  prepared once (LRU in \`db/database.ts\`). A signed-in owner's page (always rendered) fell from
  about 1.6 ms to about 0.6–0.7 ms of CPU.

## What is left, and what would close it

**Serving.** nginx hands the file to the kernel with \`sendfile\` (about 0.35–0.45 ms of CPU per
request for this mix); Node has no sendfile for HTTP, so every byte is still read into memory on
the thread pool and written to the socket again (the two \`read\`/\`write\` copies are most of
Shoebox's remaining CPU per request in a profile; the database lookup is a few per cent). With the
direct socket writes Shoebox is faster than the bare \`http\` + \`createReadStream\` reference. On
this shared 2-core machine the ratio moves with other load (wrk itself needs a core): when it
falls short. \`SHOEBOX_ACCEL_REDIRECT\` (new) lets nginx send the bytes after Shoebox has decided
(lookup, expiry and access checks, headers, then \`X-Accel-Redirect\` to an \`internal\` location;
docs/DEPLOY.md): Node then never copies file bytes, and the diagnostic row shows it at about the
same requests/s as Shoebox alone with less CPU per request: on 2 cores shared with wrk the extra
proxy hop eats what sendfile saves. What would beat nginx-alone ratios is not proxying file
requests through Node at all: \`SHOEBOX_MEDIA_BASE_URL\` pointing at nginx or a CDN serving the
storage directly (full speed, but expired and deleted files are then served until the files are
gone), or an fd cache in \`storage/local.ts\` (open and close are about a tenth of the profile).

**Big upload.** The API must answer with the file's md5 (Chevereto's \`md5\`/\`checksum\`, and what
\`SHOEBOX_REFUSE_DUPLICATES\` compares); md5 costs about 1–1.4 CPU-ms per MB. On 2 cores, curl, the
disk writes, busboy's parsing (about 0.3 CPU-s per GB) and md5 all compete, so the figure swings
with other load on the machine; the diagnostic row (the same bare pipe with md5 on its main thread)
shows what hashing alone costs the reference (Shoebox, hashing on its worker, now beats that
diagnostic). The 0.8 is reached on a quiet machine and missed when anything else runs: with 2
cores there is no spare core for the hashing thread, curl and the server at once. Memory stays
bounded: the body streams to disk, so 8 concurrent 300 MB uploads add only the spool buffers (at
most 2 MiB each), the hashing batches (at most 3 MiB each) and the hashing thread itself.

**Viewer pages.** On the cached path what is left is the web site's hooks (cookies, visitor,
session check, security headers, about 15 µs) and writing the 14 KB page to the socket (a quarter
of the process's CPU in a profile): the hello world writes a few bytes. A page that must be
checked against the database (the first request after a second, or after a change) costs one
query more; a signed-in visitor's page is rendered every time (0.6–0.7 ms).

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
