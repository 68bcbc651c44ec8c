/**
 * The hand-written part of docs/PERFORMANCE.md: what profiling showed behind each figure,
 * what was changed in src/ because of it, and what would close the gaps that remain. It is
 * analysis as of when it was written (2 × AMD EPYC cores shared with other work, Node 20);
 * re-check it when the code it names changes.
 */
export const FINDINGS = `## What was changed because of these benchmarks

- **V8's old-generation limit: \`--initial-old-space-size=128\` in every launch command**
  (\`npm start\`, the Dockerfile, the systemd unit, the \`shoebox\` command;
  \`test/core/launch-command.test.ts\` keeps them the same, and the benchmarks start Shoebox and
  every Node reference server with the flags of \`npm start\`). Profiles of a 1 GB upload showed a
  fifth of the server's CPU in full (mark-compact) garbage collections, 30–50 of them per GB,
  although the JavaScript heap stayed at about 20 MB and nothing was promoted. Until its
  old-generation size counts as "configured", V8 lowers the limit that starts a full collection
  towards the live heap whenever few young objects survive, and a server streaming megabytes of
  short-lived buffers is exactly that case, so a full collection ran every few dozen MB (not in
  every run: the same server ran either with 0–2 or with 30–40 of them per upload). An initial old
  space of 64 MB fixed the limit at that floor (raised to 128 MB in issue 20, below). Back to back on this machine: CPU per GB received
  3.0–4.4 s without the flag, 1.9–2.8 s with it, one 1 GB upload 2.9–3.9 s against 2.1–2.5 s. The
  JavaScript heap may now grow to about 128 MB before it is collected.
- **Recycled read buffers for downloads** (\`src/storage/chunk-pool.ts\`). Every 1 MiB read of a
  stored file used a fresh buffer: at 2 GB/s of downloads, page faults to map new memory and,
  because V8 counts such buffers as external memory, a full collection several times a second
  (a sixth of the CPU in the profile). Buffers are now lent to the reader and given back in the
  write callback, once the socket has taken the bytes; 16 are kept spare. Server CPU per request of
  the serving mix fell from 785–845 µs to about 590 µs, and the serving ratio from 0.58–0.66 to about
  0.78. A buffer given back before the socket took it would put one file's bytes into another
  download; \`test/api/files-viewer-delete.test.ts\` downloads three 14 MB files twelve times at
  once, half of them by slow readers, and fails when the callback is skipped.

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
- **1 MiB spool buffer** (\`src/ingest/spool.ts\`): the upload socket keeps being read while a
  disk write is in flight, instead of pausing on Node's 16 KiB default for every 64 KiB chunk. Only
  the file writer has it; the counting and hashing step before it keeps Node's default (it had 1 MiB
  too, which took the memory growth of 8 × 300 MB uploads from about 31 MB to about 78 MB once the
  heap was allowed to grow to 64 MB).
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
- **Signed-in pages from the page cache** (issue 20; \`web/page-cache.ts\`, \`web/web-kit.ts\`
  \`pageCacheKey\`/\`sendFreshPage\`/\`checkKeptPage\`, \`routes/viewer-page.ts\`, \`routes/listing-routes.ts\`
  (home), \`routes/album-routes.ts\`, \`web/session.ts\`, \`db/database.ts\` \`NoteWritesPlugin\`,
  \`core/local-changes.ts\`; docs/WEB.md "Page cache"). A profile of the owner's viewer page (0.6–0.7 ms
  of CPU on a quiet machine, 1.5–2.3 ms on this one with seven test suites beside it) spread its
  time over rendering (Eta and i18next, about a third), the queries (the session alone is a sha256
  and two queries; then the image, its tags, the owner and their album list: about 13% in the
  SQLite driver plus Kysely compiling each), the image object and embed codes (about 7%), the CSRF
  token (a random salt and an HMAC per page, 2–5%), garbage collection (about 11%) and writing the
  page. Nothing there was one big thing, so the page is no longer rendered per request: every
  signed-in account now has its own kept copy per page and URL, language, NSFW choice and settings
  version (their menu and the owner's tools are in it), with a placeholder where the session's CSRF
  token goes, put in per response. A copy is checked against every row it shows (the account row
  included) at most once a second, and at once after any change through this process: besides
  every POST, a Kysely plugin notes every write query sent through the process's database handle
  (jobs, the view counter, tests writing straight to the database), so nothing read before a local
  write is served as current. The session (with its account row) is remembered by the same rule,
  and a browser keeps getting the CSRF token made for its secret and session (tokens have no
  expiry; one is never valid for another session). The home page and album pages got the same
  cache, for visitors without a session too. Same run, back to back, on this loaded machine (wrk,
  8 connections, 3 s each; before = main at f39953b, after = this branch; two rounds), server CPU
  per request: owner's viewer page 1,822 and 1,866 µs before, 134 and 76 µs after; a member's home
  page 1,284 and 1,043 µs before, 52 and 46 µs after; a member's album page (6 files) 1,224 and
  1,036 µs before, 69 and 49 µs after; hello world 26–51 µs in the same runs. One full \`npx tsx bench/pages.ts\` on the same loaded
machine afterwards (load average 25; each side's runs swung up to sevenfold) gave 0.31, 0.35 and
0.43 of hello world for the owner's viewer, the member's home and the member's album, with least
server CPU per request 53.8, 53.8 and 45.8 µs against 28.0 µs for hello world. What is left on the
  owner's page is mostly the kernel writing it (\`writev\` is 38% of its profile: the owner's page
  carries the tools and album list). Tests: \`test/web/signed-in-pages.test.ts\` (a token per session
  in the same kept page and only that session's token taken, the owner's tools only for the owner,
  an edit, a new file, an album rename or a move to private shown at once, another instance's
  change within a second, signing out at once) and \`test/web/page-cache.test.ts\`.
- **Serving: file lookups and open files kept for a second** (issue 20; \`web/media-files.ts\`
  \`findServedFile\`, \`storage/local.ts\` \`OpenFiles\`). Each file request read its row (one query)
  and opened and closed the file (two thread-pool round trips); a main-thread profile of the serving
  mix showed \`open\` 9% and \`close\` 12% of its samples. Now a row read for a path is used again
  for a second, unless anything was written through this process meanwhile (the same rule as the
  page cache; expiry is checked on every request), and a file opened for one reader is read by
  every reader that starts within a second of its opening, through the same descriptor (closed by a
  sweep when idle; a delete or replacement through the storage retires it at once; another
  instance's change is seen by readers that start after that second). After it \`open\` and
  \`close\` are gone from the profile. The check nginx asks for behind
  \`SHOEBOX_ACCEL_REDIRECT\` is now a request with no query and no file: Shoebox answering it alone
  (no nginx, the same six-file mix) took 86 and 143 µs of CPU per request before and 31–71 µs after,
  in back-to-back runs on this machine; serving the files alone 357–494 µs before and 327–402 µs
  after (least of each side's runs; the machine's load swung between runs, so these are rough).
  Tests: \`test/api/file-lookups.test.ts\` (another instance's move into a private album after the
  second, this process's at once, expiry on every request), \`test/storage/local.test.ts\` (the
  shared descriptor closed after its last reader; a replaced file read new at once, a deleted one
  closed at once).

- **Ingest: the shared decode no longer copied, fewer file-system steps per upload** (issue 20;
  \`media/image.ts\`, \`media/perceptual-hash.ts\`, \`ingest/ingest-upload.ts\`, \`ingest/work-dir.ts\`,
  \`storage/local.ts\`). Method: the server under the bench's load (4 keep-alive clients, 12 MP
  JPEGs) measured per thread from \`/proc/<pid>/task/*/stat\`, sampled with \`perf record -e cpu-clock
  -g\` (software clock; this machine has no hardware counters) with \`--perf-basic-prof\` for
  JavaScript frames, \`--cpu-prof\` for the main thread and \`--trace-gc\`; the same for the two
  references in-process. Where a 12 MP upload's server CPU went (85–95 ms on this loaded machine):
  libvips threads 45–50 ms (the same decode and derivatives as the one-decode reference, whose whole
  process takes 52–53 ms per image); V8's garbage collector 5–14 ms, mostly concurrent marking of
  full collections on V8's helper threads; md5 about 6 ms on its thread (4.5 MB); the kernel about
  11–13 ms (receiving the body from the socket, writing the spool into the page cache, page faults
  of libvips' buffers, scheduling); the main thread 14–18 ms, of which JavaScript about 10 ms
  spread thin: Kysely and SQLite about 2 ms for 13 statements (API key, claim, blocklist, insert,
  webhooks), sharp's JavaScript about 2 ms, busboy's boundary search about 0.6 ms, md5 batching
  0.5 ms, Fastify and streams the rest; the thread pool (spool writes, renames, sharp's calls) 2–10
  ms. The main thread is mostly idle because the work is on the other threads: under load the two
  cores are busy, the server is CPU-bound, not waiting. Found and changed: sharp 0.35's
  \`clone()\` copies its options with \`structuredClone\`, Buffer input included, so the thumb, the
  medium and the perceptual hash each copied the 562 KB raw decode on the main thread (3.2 ms a
  clone measured alone on this machine); each now gets a new sharp instance over the same buffer,
  as the reference does. The name claim was written (an UPDATE) before each of an upload's three
  file moves though it had just been taken: now only when older than a tenth of
  SHOEBOX_UPLOAD_CLAIM_TIMEOUT (a claim that young cannot have been swept; the insert's transaction
  still checks it). A multipart upload was spooled into one temp folder and then moved into
  another (mkdir, mkdtemp, rename, a second recursive removal): the pipeline now works in the
  folder the door spooled into, and the tmp folder and the date folder are made only when a
  mkdtemp or rename says they are missing, instead of a recursive mkdir per upload and per stored
  file; each of those was a thread-pool round trip queued behind libvips jobs. Figures: Shoebox's
  media layer in-process 58.3–58.4 ms of CPU per image before, 54.9–55.4 ms after (bench, two
  rounds each); the server, three alternating runs of 150 uploads each with the old and the new
  build: 90.5–97.5 ms (mean 93.1) of CPU per upload before, 86.5–91.9 ms (mean 89.9) after, and
  7.2–9.0 uploads/s before against 9.3–10.5 after; again after merging main, 92.3–94.5 ms (mean
  93.2) against 84.3–92.8 ms (mean 89.2), 9.3–10.1 against 9.9–12.1 uploads/s (the CPU per upload moves by a few ms between
  identical runs here, with full collections coming in bursts, so this is a small gain, not a
  precise one). Full runs of \`npx tsx bench/ingest.ts\`, main then this change, twice: the
  one-decode ratio 0.46 and 0.55 before, 0.52 and 0.70 after; the server's least CPU per upload of
  four rounds 84.7–85.4 ms before and 83.4–85.9 ms after, which at the bench's resolution is no
  visible difference (a third pair, 0.51 against 0.52, ran beside a test suite). The API answer, md5, the blocklist check, EXIF handling and the cleanup of files
  are unchanged (test/media, test/ingest, test/api, test/storage, test/moderation and
  test/scale/crash-safety pass; \`test/api/upload-sources.test.ts\` checks that no work folder is
  left, stored or refused).
- **md5 on up to one hashing thread per core beyond the first; big uploads profiled** (issue 20;
  \`src/ingest/md5-hasher.ts\`, \`src/ingest/spool.ts\`, \`bench/big-upload.ts\`). Method: V8 profiles
  (\`--cpu-prof\`) and \`perf record -g\` of the server during 8 × 300 MB, CPU per thread from
  \`/proc/PID/task/*/stat\`, \`strace -c\` of one 300 MB upload, and full runs of
  \`npx tsx bench/big-upload.ts\` alternating main (1a347f6) and this change, on this machine with a
  load average of 14–25 from other work. No regression behind 0.90 → 0.72: Shoebox's CPU per GB
  received was 2.89 s in the 0.90 run and 2.71 s in the 0.72 run (2.69–2.78 s now); the reference
  moved (the bare pipe used 2.21 s per GB in the first run and 1.58 s in the second). Where a big upload's CPU goes: the md5
  thread 1.41–1.44 s per GB (31% of all samples of the server and its children during 8 × 300 MB),
  the main thread 1.25–1.79 s per GB (the bare pipe's 0.98–1.25), libuv's file writes 0.4–1.0 s
  (the pipe's 0.7–1.0), curl 0.28–0.37 s, and per video ffprobe and ffmpeg's frame: 0.29 CPU-s each
  (22% of the samples during 8 × 300 MB, 0.94–1.05 s per GB of such files; about a third is Debian's
  dynamic loader, a third decoding up to the quarter-length frame). Copies: 5–6% memmove, half of
  it Node's own HTTP parser copying each body chunk into a new Buffer (the pipe pays it too), half
  the copy into the 1 MiB hashing batches; busboy's boundary search 1.3–1.4%. Writes are not small:
  a 300 MB upload took 464 \`writev\` calls (about 650 KB each, coalesced by the spool's 1 MiB
  buffer) and 5,700 futex calls, against the bare pipe's 9,500 \`write\` and 21,900 futex calls; the
  file moves into storage by a rename and is read again only by ffprobe and ffmpeg (headers and the
  frame), never copied. The single hashing thread was not the limit here: during 8 × 300 MB it used
  3.3 CPU-s in 15.7–22.5 s of wall time (at most about 45% busy on the quieter run of a5f9107), so
  a pool was built (one upload stays on one thread, so its batches are hashed in order; a new upload
  goes to an idle thread, else a new one while there is room, else the least busy) and measured:
  with two threads forced on this 2-core machine, 8 × 300 MB used 4.26–4.58 server CPU-s per GB
  against 4.08–4.14 with one (the two threads split the same 3.4 CPU-s of md5) at the same MB/s
  within the noise (67–73 against 65–67 MB/s at load 16–25), and it adds a V8 isolate. So the
  number of threads is the cores beyond the first (1–4): one on 2 cores, as before, three on a
  4-core machine. Alternating full runs, main then this change (the same code on 2 cores, so the
  spread is the machine's): one 1 GB upload 0.56 and 0.35, then 0.60 and 0.69 of the bare pipe,
  Shoebox's CPU per GB 2.76/2.69 then 2.77/2.78 s; 8 × 300 MB at once 0.25 and 0.28, then 0.29 and
  0.36, all processes' CPU per GB 5.88/5.03 then 5.45/5.50 s against the pipe's 2.00–2.67 s; memory
  growth 32/65 then 37/33 MB. Also fixed: a spool whose file failed to finish left its upload's hash
  state on the thread. Tests: \`test/ingest/md5-hashing-threads.test.ts\` (as on 4 cores: six uploads
  of odd sizes at once spread over three threads with every md5 right; an upload abandoned part-way
  frees its thread; a client hanging up mid-body leaves no file in \`tmp\` and no upload on a thread,
  and the next big uploads answer the right md5).
- **PostgreSQL title search with many old hits: \`title_grams\` walked newest first for the
  text's rarest three-character gram** (issue 20; migration \`0020_title_grams\`,
  \`db/repositories/postgres-title-search.ts\`). Profiled with \`EXPLAIN (ANALYZE, BUFFERS)\` of each
  statement the search sends, on a copy of the bench's million rows: "photo 12" spent nearly all
  its time in the GIN step (a bitmap of 11,111 hits, each rechecked on the heap, then a top-N
  sort; 10.7 ms of execution in the report's run, 32–54 ms on this loaded machine, against 0.6 ms
  for the walk of recent files and 0.05 ms for the rows by id); "photo 1" (111,111 hits below
  800,000 newer titles: the shape of "photo 12" at 10 million rows) the same, ten times over.
  \`title_grams\` (gram, image_id) holds every distinct run of three characters of every
  lower-cased title, kept by a trigger on images (insert, delete, a change of title), refilled by
  the target's trigger in \`shoebox copy-db\` (a derived table, like \`cjk_title_grams\`). When the
  walk of recent files leaves the page short and the text's rarest gram (by the most common
  values ANALYZE keeps for the column, statistics target 1,000, read from \`pg_stats\` once per 10
  minutes) is in 2,000 titles or more, that gram's titles are walked newest first from the walk's
  boundary (\`Index Only Scan Backward using title_grams_pkey\`, each title checked with \`strpos\`,
  listed, expiry and type): 200 of them, then as many more as their hits say are needed (3,000 at
  most); the GIN step takes whatever lies past that walk. Measured on the same copy before and
  after (\`EXPLAIN ANALYZE\` execution, least of 7; the machine had a load average of 8–18 from
  other work, so these are several times the quiet report's): "photo 12" GIN step 32.3 ms →
  gram walk 0.44 ms; "photo 1" the same 0.44 ms; "photo 123456" gains a 0.44 ms probe of 200
  titles before its 0.25 ms GIN step; no hits unchanged (its rarest gram has no titles: 0.02 ms).
  Whole \`listImages\` calls, 300 of each, old build and new interleaved on the two copies: "photo
  12" p50 11.2 → 3.0 ms, "photo 1" 76.5 → 3.2 ms, "photo 123456" 2.3 → 3.3 ms, no hits 1.9 → 1.8
  ms (the p99s, 14–235 ms before and 14–31 ms after, are the machine's load: the no-hit search
  with no change had 13.9). Cost: 9.9 million rows at a million titles ("Photo <n>", ten grams
  each): 342 MB of table, 212 MB of key, 89 MB of the image_id index (the images table itself is
  326 MB, its GIN index 27 MB); the trigger adds about 70–90 µs per inserted row (5,000 rows:
  356–455 ms of trigger time in \`EXPLAIN ANALYZE\` of the insert, loaded machine); the migration
  filled a million titles in 60 s (one \`INSERT … SELECT\`, then the key built sorted: filling with
  the key in place and \`ON CONFLICT\` had not finished after 12 minutes). bench/listing.ts makes
  the grams after the load (trigger off, the same fill, key and index, \`VACUUM ANALYZE\`), so at
  10 million rows expect about ten times that fill. Tests: \`test/web/search.test.ts\` pages through
  five hits below 3,350 newer titles that hold every gram of "kiwi 12" (a page from the gram walk
  and the GIN step past it, the way back, the type filter, a page from inside the walked titles,
  \`countSearch\`, a renamed title found at once and the old one not, a deleted file's grams gone)
  on SQLite and PostgreSQL, and fails when the gram walk drops a hit; \`test/scale/copy-db.test.ts\`
  checks a copied title's grams.
- **PostgreSQL title search: a bounded walk of the newest files, then the trigram index past
  it** (issue 20; \`db/repositories/postgres-title-search.ts\`, migration
  \`0018_title_index_no_pending_list\`). At a million rows the planner answered "photo 12" (11,111
  hits, the newest at id 130,000) by walking \`images_pkey\` backwards and filtering 870,000 rows
  (p99 606 ms), and "photo 123456" (one old hit) from the GIN bitmap in 12 ms of execution, nearly
  all of it in the posting lists of the trigrams of "photo", which is in every title (GIN decodes
  about four million postings to intersect them: \`LIKE '%123456%'\` alone takes 0.3 ms), plus the
  index's pending list that the seed left behind (2,184 titles waiting cost every search about
  1.2 ms, even one with no hits; 7,257 waiting, 4–8 ms). Now a window is found in up to three
  steps: a walk of the next 1,000 listed files from the cursor (\`images_listed_id\`, 0.6–1 ms),
  each title checked with \`strpos\`, which fills the page when the text is in recent titles and
  counts how many walked titles contain each word of the text; more walks (four in all at most,
  each at least 1,000 rows) while the density it saw makes walking on cheaper than rechecking the
  index's hits past the walk; else the GIN index for the files past the walked boundary, ordered
  by \`id + 0\` so that no plan can turn it back into a walk of the primary key (a \`MATERIALIZED\`
  CTE gives the same guarantee but cost about a third more for 11,000 hits: its tuplestore), and
  given only the words that fewer than 5% of the walked titles contain (\`LIKE '%123456%'\` for
  "photo 123456", the whole text checked with \`strpos\`). \`fastupdate = off\` takes the pending
  list away: each insert updates the index itself, about 90 µs more per row (20,000 rows in one
  insert: 4.7–5.3 s against 2.8–3.5 s; so roughly 90 s more for the bench's million-row seed,
  which took 206–233 s in these loaded runs against 63 s in the report's quieter one). The rows are exactly the old query's (newest
  first, listed and not expired, the tag walk merged as before); \`test/web/search.test.ts\` pages
  across the walk's boundary on both databases (four matches below 1,100 newer files that share a
  word with the text, an unlisted one, an expired one and a decoy with the words the other way
  round among them; a page with the two walked hits and the newest old one, the way back, the type
  filter and \`countSearch\`), and fails when the index step is skipped; a 1M-row scratch copy gave
  the same rows as the old query for 20 texts of every density from 7 cursors each, and the same
  counts. Measured: bench/listing.ts at a million rows, before (docs/PERFORMANCE.md of a5f9107)
  and after (two runs on this machine with load averages 9–14, the second after main was merged):
  "photo 12" p50 381 → 21.8 and 15.4 ms, p99 606 → 186 and 87 ms; "photo 123456" p50 15.7 → 3.08
  and 2.84 ms, p99 26.2 → 38.4 and 35.0 ms; no hits p50 2.53 → 1.93 and 1.92 ms, p99 7.66 → 48.7
  and 20.3 ms. The p99s of these runs are the machine's (SQLite's no-hit search, 0.16 ms at p50,
  had a p99 of 2.7–17.6 ms in the same runs). Back to back on the scratch copy (old build and new
  alternating, twice, least and median of 20 old and 200 new calls): "photo 12" 410–725 / 520–1,850
  ms old, 10.3–19.3 / 15.9–83.5 ms new; "photo 123456" 15.7–29 / 16.2–70 ms old, 2.2–4.8 / 3.0–15.4
  ms new; no hits 0.73–1.04 / 0.87–2.45 ms old (its pending list already merged there), 1.63–4.15 /
  1.95–16 ms new (the walk and a round trip more). \`EXPLAIN ANALYZE\` at a million rows, after: the
  walk 0.6–1.0 ms (\`Index Scan Backward\`, 1,000 rows), the index step 0.07 ms without hits, 0.3 ms
  for "photo 123456", 12.5 ms for "photo 12" (a bitmap heap scan of its 11,111 hits and a top-N
  sort). bench/listing.ts now explains every statement of the search as it is sent (captured
  from a traced Kysely) and checks the plans: a bounded walk down an index, then a GIN bitmap,
  never a walk of \`images_pkey\`.

- **Start-up: what one configuration or a first use needs is loaded then, not by \`npm start\`**
  (issue 20). Method: CPU profiles of \`node --cpu-prof --initial-old-space-size=64 dist/cli/main.js
  serve\` up to the first 200 of \`GET /\`, \`strace -e openat\` to count the files loaded, each
  package's import timed alone (\`process.cpuUsage()\` around \`import()\`), and the CPU time of
  the process group at the first 200 read from \`/proc\` (now printed by bench/start.ts), main
  (1a347f6, route schemas already compiled lazily) and this change alternating. Module loading was
  most of it: about 2,280 files (ES modules resolved, read and compiled one by one; TypeBox alone
  680, Kysely 264), of which about 820 are no longer loaded at start (1,452 are). Loaded on first use now, with
  what each cost at start: the S3 resumable store with the AWS SDK, S3 storage only
  (\`ingest/resumable-s3-store.ts\`, about 0.2 s), TypeBox's \`Value\` checker, first upload checked
  (\`uploads/schemas.ts\` \`loadValue\`; until it is loaded the V1 query check is a promise Fastify
  awaits, with the same error; about 0.13 s), sharp with libvips, first image
  (\`media/sharp.ts\`, which applies the cache settings as it loads; 0.1 s), the site's own
  favicon.ico, drawn on its first request, @tus/server and the tus stores (first resumable request;
  65 ms), pg (first PostgreSQL connection, through Kysely's pool factory; 47 ms), nodemailer (an
  SMTP URL is set; 45 ms), file-type, exifr, decode-bmp (first upload; 80 ms), markdown-it (first
  text rendered), qrcode (first QR code), csv-stringify (first audit export), the other CLI
  commands' modules (their command), ajv and fast-json-stringify, loaded and instantiated on the
  first validated or serialised request (\`http/lazy-schema-compilers.ts\`; about 60 ms to load,
  and adding the shared schemas compiled ajv's meta-schema, about 50 ms more), and the
  Intl formatters (first number or date shown: the first one loads ICU's data). A database that ran
  exactly the listed migrations no longer goes through Kysely's Migrator, which read every table's
  columns twice to see whether its own tables exist; any other database still does, and the
  Migrator orders names without an ICU collator (same order: they start with four digits).
  Alternating runs on this machine (load average 7–16 from other work): CPU to the first 200 of
  \`node … serve\` 1.38–1.70 s before, 0.89–0.99 s after (restart) and 1.38–1.75 s against
  0.91–1.08 s (first start); of \`npm start\` 1.57–1.81 s against 1.02–1.18 s (npm itself is about
  0.1–0.15 s of it). Wall clock, which on 2 shared cores is mostly waiting for a core: \`npx tsx
  bench/start.ts\` alternating, at a load average of 8–10 then 5–7: npm start, first start 3.21,
  2.33 and 1.76 s before, 2.07, 1.96, 1.22 and 0.94 s after; restart 2.98, 1.97 and 1.72 s before,
  1.95, 1.96, 1.19 and 0.96 s after; \`node … serve\` 1.53 s before, 0.76–0.89 s after in the
  quietest runs. What a start still loads: Kysely
  (about 0.13 s), TypeBox's type builder (0.16 s; the route schemas are built from it), Fastify
  with its plugins, swagger with yaml, prom-client with @opentelemetry/api (about 0.05 s), eta and about
  300 of Shoebox's own modules. Tests: the whole of test/core, test/cli, test/api, test/db,
  test/media, test/mail and the web, scale and moderation suites that touch what moved (resumable
  uploads on one and two instances, share QR codes, two-factor, the audit CSV, site pages and the
  favicon, avatars, languages, PostgreSQL, metrics), on SQLite and PostgreSQL.

- **Behind nginx: the benchmark's nginx now keeps its connections to Shoebox open, as the shipped
  configuration does** (issue 20; \`bench/lib/nginx.ts\`). The benchmark's proxy passed each check
  to Shoebox with \`proxy_pass http://127.0.0.1:<port>\`, and nginx keeps upstream connections
  open only for an \`upstream\` block with \`keepalive\`: every file request opened and closed a TCP
  connection to Node. \`deploy/nginx/shoebox.conf\` has always had \`keepalive 32\`, so the figure
  measured a setup nobody is told to run. Both processes' CPU per request fell from 575 µs (the
  previous report) to 447 µs, and the ratio from 0.75 to 0.84 of nginx alone. A profile of Shoebox
  under the proxied load after it: the largest single item is the kernel's send of each answer's
  headers (\`writeLatin1String\`, 12% of the samples, the \`write\` syscall that on loopback also
  wakes nginx), the JavaScript spread thinly over Fastify, helmet's headers, the metrics hooks and
  the connection guard (none above 1.5%); the lookup itself is the remembered row (above). Tried:
  a \`proxy_cache\` in nginx for the checks (public files' answers kept a second): nginx does not
  cache an answer carrying \`X-Accel-Redirect\` (three requests, three reached Shoebox), so each
  file still costs one proxied request. docs/DEPLOY.md now says why the \`keepalive\` matters.
- **/tags from running counts** (\`tags.uses\`, migration \`0019_tag_use_counts\`). The page's
  aggregate counted every tag link of a public file on each visit after its 5-minute cache ran
  out: 6.0 s at 10 million rows, 3.0 s (SQLite) and 1.6 s (PostgreSQL) at a million on this
  machine. Each tag now carries the number of public files it is on, kept by triggers on
  \`image_tags\` and \`images\` (so uploads, tag edits, album privacy and its cascade, deletions and
  their foreign-key cascades, the sweep, the Chevereto import and copy-db all keep it without
  knowing), and the page reads the first 200 entries of \`tags_uses_name (uses desc, name)\`:
  0.2 ms median on SQLite, 0.7 ms on PostgreSQL at a million rows, whatever the number of files,
  so the page no longer keeps its answer. bench/listing.ts checks every count against the full
  aggregate after seeding. What it costs: a tag link written on SQLite 5.0–5.4 µs of CPU instead
  of 2.4–2.5 µs (bulk inserts of 333,334 links, 50,000 per transaction), a file's \`listed\`
  flip a fifth more (100,000 files: 2.7–3.0 CPU-s instead of 2.3). On PostgreSQL the link
  triggers run once per statement (each tag updated once, in id order) and read the linked files
  \`FOR SHARE\`, so a link written while another transaction flips its file's \`listed\` is
  counted once (\`test/db/tag-counts.test.ts\` makes both orders happen); the share lock writes
  each file's row, which is most of the bulk cost: an upload's statement of three links about
  0.1 ms more of the server's CPU (0.31–0.34 ms instead of 0.21–0.22, each in its own
  transaction), bulk links 16–29 µs each instead of 12 (batches of 20,000 into 300,000 files; the
  1-million-row seeding of bench/listing.ts, 333,334 links in 17 statements, took 69 s). A flip of \`listed\` is
  counted once per UPDATE statement too: a trigger on every UPDATE of images, about 50 µs of the
  server's CPU more for a one-row update such as a views flush (row by row instead, an album of
  8,000 files made private took 11 s: every update of a popular tag's row walked the versions
  its own transaction had left). The count cannot leave out files past their expiry that the
  sweep has not deleted yet, as the aggregate did: they count until the sweep deletes them.

- **Serving: hot files from memory, headers made once, fewer hooks** (issue 20;
  \`storage/local.ts\` \`OpenFiles\`, \`web/media-files.ts\`, \`web/security-headers.ts\`). Method:
  \`bench/serving-cpu.ts\` (CPU per request of each process from /proc utime + stime ÷ the
  requests wrk made, 16 keep-alive connections, 3 s runs, the old and new builds on the same data
  in alternating rounds; least of 4 rounds, median in brackets) and \`node --cpu-prof\` of both
  Shoebox processes under that load. Before, a file request's main-thread busy time was a quarter
  copying the file from the page cache (\`fs.read\`, 25%) and a quarter writing it to the socket
  (\`writev\`, 26%); of a proxied check's, the kernel's write of the answer (36%), then helmet
  (9%: @fastify/helmet builds helmet's whole middleware chain and runs two promise hooks on every
  request, for headers that never change), the metrics hooks (6%), Fastify's header bookkeeping
  and \`getHeaders\` merge. Changed: a file asked for again while its shared descriptor lives (the
  second of \`OPEN_FILE_REUSE_MS\`) is read whole once and later readers get that buffer, for
  exactly the descriptor's life (so nothing is served longer than before: a delete or replacement
  through the storage drops it at once, another instance's after that second), at most 64 MiB of
  files up to 8 MiB; helmet's headers are worked out once at start; a whole public file (and the
  \`X-Accel-Redirect\` answer) is one \`writeHead\` with a header object made per lookup and, when
  hot, one \`end(bytes)\`; request durations come from Fastify's own timing (no onRequest hook);
  the ban guard is a callback hook; the \`X-Accel-Redirect\` answer carries only the headers nginx
  keeps from it (Content-Type, Cache-Control), which also ends the doubled \`Accept-Ranges: bytes,
  bytes\` nginx sent with every file. Shoebox's CPU per request, before → after: alone, originals
  637 (730) → 329 (348) µs against nginx's 262 (341); alone, thumbnails and mediums 94 (108) →
  50 (55) µs against 22 (23); the check answered directly 56 (58) → 28 (31) µs; behind nginx,
  originals 101 (121) → 72 (79) µs, thumbnails 54 (55) → 32 (34) µs (nginx's own share there 332–365
  and 34–37 µs). A second such run on a quieter machine (after the merge of the 128 MB flag):
  alone, originals 516 → 289 µs against nginx's 343, thumbnails 91 → 55 against 21, the check
  54 → 27, behind nginx 82 → 52 and 48 → 30 µs; its best requests/s, Shoebox alone 2,239 → 3,159
  against nginx's 2,646 (0.85 → 1.19), behind nginx 2,134 → 2,290 (0.81 → 0.87). A profile after it: the plain server's main thread is half the kernel's socket
  write (\`writev\`, 53% of busy samples); the check's is the write of its answer (44%), then
  Fastify's hook chain and routing, the metrics counter and histogram (prom-client hashes the
  labels on each call, 5%), the ban guard's prefix test and the connection guard. Tests:
  \`test/storage/local.test.ts\` (a file asked for twice comes from memory with the same bytes and
  ranges, another process's replacement is read after the second, a delete through the storage
  is seen at once, files above 8 MiB never kept), \`test/scale/metrics.test.ts\` (durations
  measured), and the serving, privacy, purge and behind-nginx suites on SQLite and PostgreSQL;
  every answer's headers compared between the old and new builds (files, HEAD, thumbnails,
  ranges, 304, 404, 416, pages, /healthz): the same.

## What is left, and what would close it

**Serving.** nginx hands the file to the kernel with \`sendfile\` (about 0.26–0.35 ms of CPU per
request for this mix); Node has no sendfile for HTTP, so every byte is still written from memory
to the socket, half of Shoebox's main-thread time. The other copy, from the page cache into
memory, is now made about once a second per hot file (above), so Shoebox's CPU per request for
the mix is 2–26% above nginx's (329 µs least and 348 median against 262 and 341), the gap
largest for the small files: 50 µs a thumbnail against nginx's 22, mostly Fastify's request
handling and the write. A file asked for once in a second is still read in 1 MiB chunks. On this
shared 2-core machine the requests/s ratio moves with other load (wrk itself needs a core).
\`SHOEBOX_ACCEL_REDIRECT\` lets nginx send the bytes after Shoebox has decided (lookup, expiry and
access checks, headers, then \`X-Accel-Redirect\` to an \`internal\` location; docs/DEPLOY.md):
the check now costs Shoebox about 30 µs answered directly and 70–80 µs behind nginx at the mix's
rate (each proxied request wakes the process on its own), and proxying it costs nginx
12–15 µs per thumbnail and 50–100 µs per original over serving the file alone. Closing the rest needs the hop itself gone for most requests: nginx's
\`auth_request\` with a cached subrequest (public files' decisions kept a second, restricted ones
never), which changes the shipped configuration and how 404s and headers pass, and would add
nginx's second to Shoebox's own for a delete or a privacy change; not tried here. What would beat
nginx-alone ratios is not proxying file requests through Node at all: \`SHOEBOX_MEDIA_BASE_URL\`
pointing at nginx or a CDN serving the storage directly (full speed, but expired and deleted
files are then served until the files are gone).

**Big upload (one 1 GB upload ≥ 0.8 and 8 × 300 MB at once ≥ 0.85 of the bare pipe: not
reachable on this 2-core machine while the API answers with md5).** The API must answer with the
file's md5 (Chevereto's \`md5\`/\`checksum\`, and what \`SHOEBOX_REFUSE_DUPLICATES\` compares). With
every thread busy, MB/s is at most the cores divided by the CPU seconds a GB costs all processes
together, so the ratio cannot pass the bare pipe's CPU per GB divided by Shoebox's: the bench now
prints both (server, its ffprobe/ffmpeg, curl) and that ceiling, 0.39–0.45 for 8 × 300 MB at once
in the runs above (2.0–2.7 s per GB against 5.0–5.9 s). Even with ffprobe and ffmpeg free and
Shoebox's main thread as cheap as the pipe's, md5's 1.4 CPU-s per GB alone caps it at about
0.6–0.66. For one upload Shoebox needs about 3.1 CPU-s per GB with curl's (at most about 650 MB/s on
two idle cores) and its md5 thread alone caps it at about 700 MB/s, while the pipe is limited by its
main thread (1.0–1.25 s per GB, 800–1,000 MB/s): 0.65–0.8 on an idle machine, and 0.8 or more only
when the reference has a slow run (0.90 once, with the pipe at 2.21 s per GB). After the body a
video is probed and a frame and thumb made before the answer (about 0.25 s of wall time, 0.29
CPU-s: half of it is Debian's dynamically linked binaries loading about a hundred libraries; a
statically linked build, set with SHOEBOX_FFMPEG_PATH and SHOEBOX_FFPROBE_PATH, starts in about
10 ms). The figure also swings with the machine: the same bare pipe took 1.8–4.8 s for 1 GB here,
as the kernel's cost of filling new page-cache pages varied eightfold between runs
(\`copy_folio_from_iter_atomic\` from 5% to 40% of the profile), so each side's best of three runs is
compared. Tried and dropped: 1 MiB batches in shared memory (\`SharedArrayBuffer\`) written to disk
and hashed at once from the same memory (copies into shared memory are element-wise relaxed atomics,
\`relaxed_memmove\`, and two positioned writes in flight on one file wait on each other for the inode
lock); a second hashing thread on 2 cores (above). What would close it: more cores (the hashing
threads follow them), or cheaper md5 for many uploads at once, e.g. multi-buffer md5 that hashes 8–16
uploads' batches in one SIMD pass (as Intel's isa-l_crypto \`md5_mb\` does), which no maintained npm
package offers. Memory stays bounded: the body streams to disk, so 8 concurrent 300 MB uploads add
only the write buffers (1 MiB each), the hashing batches (at most 3 MiB each), the hashing threads
and heap growth up to the old-generation floor (33–65 MB measured with a 64 MB floor).

**Ingest (0.46–0.70 of the one-decode reference over this session's bench runs; issue 20's ≥ 0.9
cannot be reached on this machine).** The comparison is nearly the same pixel work: Shoebox also
sniffs the type, probes the header, reads the EXIF and makes the 32 × 32 grey version for the
perceptual hash the takedown blocklist needs; the bench now prints the CPU per image of both:
Shoebox's media layer about 55 ms against 52–53 ms for the reference. The hash is about 2.6 ms of
that measured alone, 1.4 ms of it the conversion to grey of the 500 × 375 decode, which sharp does
before resizing; resizing first would halve it but moves 2–6 of the 64 bits on this bench's photos,
too close to the blocklist's match distance for hashes already stored, so it stays. md5 of 4.5 MB
is about 6 ms, and the body crossing the loopback socket and landing in the spool costs the kernel
a few ms more (the client, sending, runs on the same two cores): with no HTTP, database or
JavaScript at all an upload would still cost about 65–70 ms against 52–53, a CPU-bound ceiling of
about 0.75–0.8, and md5 alone is more than the tenth (about 5 ms) the issue allows. Beyond that,
the largest remaining item was garbage collection, 5–14 ms per upload: the serving process holds
about 42 MB of live heap (module code and source text; the AWS SDK was about 5 MB of it, loaded
even with local storage until the start-up change below made it load only with S3 storage), and with \`--initial-old-space-size=64\` the
old generation's limit sits only about 24 MB above it, while V8 counts the external memory
allocated since the last full collection (the body's socket buffers, the decode buffers) against
that limit: a full collection every 4–6 uploads (25–37 per 150, \`--trace-gc\`). perf put GC at
4.8–12.4 ms per upload with 64, 2.9 ms with 96 and 2.2–2.3 ms with 128 (peak RSS about 288, 298 and
308–322 MB). After the start-up change below the live heap is about 31–33 MB, and the same
measurement (120 uploads of the bench's 12 MP photos in a row, \`--trace-gc\`, the machine busy
with other work) gave 20 full collections (5.8 ms per upload) with 64, 6 (2.9 ms) with 96 and 4
(2.1 ms) with 128, peak RSS 247–253 MB in all three: the launch flag is now
\`--initial-old-space-size=128\` everywhere (\`npm start\`, the Dockerfile, the systemd unit,
\`npx shoebox\`, the benchmarks). \`UV_THREADPOOL_SIZE=8\` against the default 4 showed no clear difference in three
alternating runs each.

**Viewer pages (near the threshold: 0.49–0.61 over this machine's full runs).** On the cached path a
profile splits the page's CPU per request (about 55–60 µs, against about 28 µs for the hello world
in the same process) into the kernel's work for writing the 13 KB page to the socket (about 32 µs,
against about 21 µs for the hello world's few bytes: on loopback the sender's \`writev\` also pays
for the receiving side) and about 26 µs of JavaScript (against about 8 µs), spread thinly over the
site's hooks (visitor and session, cookies, security headers, metrics), Fastify's reply and
Node's header checks, the page-cache lookup and the id decoding, none above 3 µs. The hooks that
run on every request are now callback-style where they wait on nothing (metrics, security
headers, the page cache's change note) and look the session up once, about 2 µs less per page.
What would move it further: a smaller page (most of the 13 KB is the embed codes; about 1.4 KB is
indentation) or fewer global hooks (each costs Fastify about half a microsecond). A page that must be checked against
the database (the first request after a second, or after a change) costs one query more (a
signed-in person's copy a few: every row it shows, then no rendering unless something changed).

**Listing on PostgreSQL and at 10 million rows (issue 20; met on both databases at 10 million rows,
title search and /tags included; SQLite's title search measured on the run's own file after it).**
bench/listing.ts seeds the same rows into SQLite and PostgreSQL (the real schema, all migrations;
PostgreSQL in batches of 20,000 rows from one array per column, then ANALYZE), times the same
queries on both and prints \`EXPLAIN ANALYZE\` of the page and title-search queries; \`--rows=N\`
seeds another size (\`npm run bench -- --rows=10000000\`, its own section below; each database's
timed calls stop after 60 s so a slow query cannot take the whole run). The last 10-million-row run
took 47.9 minutes, its first half on a machine busy with other work: seeding took 26.3 minutes on
SQLite (18.2 on a quiet machine the session before; the tag links now count themselves through the
0019 triggers, 3.3 million in 16 s) and 18.8 minutes on PostgreSQL (the 3.3 million tag links in
58 s, the title trigram index and \`title_grams\` made after the load, the latter in 255 s). At 10
million rows every user page, deep page and popular page stays under 1 ms p99 on both databases;
/tags is a read of the running counts (0–1 ms, against 6.0 s for the aggregate it replaced);
PostgreSQL's title search is 3.6 ms p99 with no hits, 4.3 ms with many old hits ("photo 12", 110 ms
the session before) and 9.6 ms for one old hit under common trigrams. That run measured SQLite's
title search as it was when it started (the quoted FTS5 phrase: 41.7 and 55.3 ms p99 for the two
texts with old hits); the rare-trigram walk (below) was merged during it, so it was timed
afterwards on the same 10-million-row file (kept with a hard link), interleaved with the phrase
query it replaced in one process on the then quiet machine, 1,717 calls each: "photo 12" 0.76 ms
p99 (phrase 35.8), "photo 123456" 2.9 ms (phrase 50.0), no hits 0.67 ms (phrase 0.09), the same
rows from both. The next \`--rows=10000000\` run will show it in the section itself. The user's pages walk an index on both (PostgreSQL: \`Index Scan Backward using
images_pkey\` with the user as a filter while the measured user owns 30% of the rows). PostgreSQL's
title search is now a page's worth of work for a text in recent titles, for no hit, for rare hits
and for many old hits (\`title_grams\`, below). SQLite's FTS5 search missed at 10 million
rows with many old hits; profiled at 3 million rows (the bench's rows; "photo 12" there has the
10-million-row shape, 111,111 hits below 1.7 million newer titles), the plan was already a walk
of the FTS index by rowid, newest first, stopped by the LIMIT (\`SCAN images_title_fts VIRTUAL TABLE
INDEX 192:M1\`), and the time was the phrase's own evaluation: the quoted phrase "photo 12" makes
FTS5 read the doclists and positions of all six trigrams, three of them in every title (4.5–9 ms;
"photo 1" 2.7 ms; "photo 123456", 11 hits, 15.6–25 ms). The text's rarest trigram alone (\`MATCH
'" 12"'\`) takes 0.05 ms for "photo 12"; for "photo 123456" the AND of two rare ones (\`"456" AND
"123"\`) 0.6 ms, against 10.4 ms for the AND of all ten. FTS5 gives no cheap count of a trigram's
titles (\`fts5vocab\` reads the whole doclist: 110–130 ms for "pho" at 3 million rows), and
checking each candidate with FTS5 itself costs as much as the phrase. So the search is now
(src/db/repositories/sqlite-title-search.ts): \`MATCH '"t1" AND "t2"'\` over the one or two
trigrams of the text that are in under 10% of 2,000 titles sampled at even steps of the whole id
range (the pair, not overlapping, with the fewest expected candidates; the sample is taken once per
10 minutes per process, 6–8 ms of CPU at 3 million rows, one primary-key lookup per title), each
candidate checked with \`shoebox_title_contains(title, text)\`, a deterministic SQL function that
database.ts registers on every SQLite connection and that folds case exactly as FTS5's trigram
tokenizer does (src/db/title-fold.ts: JavaScript's one-code-point lowercase, corrected where FTS5's
older Unicode simple folding differs, 64 ranges; test/db/sqlite-title-search.test.ts compares it with
FTS5 for every code point of planes 0 and 1 and the search's rows with the phrase's over mixed-case
Latin, Greek, Cyrillic, Cherokee and FTS syntax); a text whose trigrams are all common keeps the
phrase (its page fills from recent titles). The sample spans the whole table, not recent titles:
"o 1" is in no recent title of the bench and in 37% of all, "999" in every recent one and 0.3% of
all, and a walk's cost is the chosen trigram's titles it passes. Measured at 3 million rows on
SQLite only, the same file, the build before and after loaded side by side in one process and timed
in turns (10 rounds of 30 calls each, listImages page 1 with the tag lookup, under \`nice -n 19\` while
another benchmark used the machine; process CPU per call from \`process.cpuUsage\`, which matched
wall time at p50): "photo 12" p50 5.4 → 0.42 ms (p99 9.8 → 2.6), "photo 123456" 11.5 → 0.92 ms
(p99 17.6 → 3.6), no hits ("sunset over the sea") 0.15 → 0.18 ms (p99 1.6 → 2.6, this process's
noise: the same after's p50 is 0.18); three pages of "PHOTO 12345" 26 → 4.7 ms, "photo 1234567"
11.6 → 1.8 ms, with the same rows as before for every text tried. Not measured at 10 million rows
(where "photo 12" took 33 ms p99 and "photo 123456" 43 ms): the candidates walked grow with the
table ("photo 123456" reads the titles holding both chosen trigrams, about 0.1% of all), so expect a
few milliseconds there. What can still be slow: a text with exactly one rare trigram and few hits
walks all of that trigram's titles (at most 10% of the table, each checked: "photo 123456" with its
rarest trigram alone took 16 ms at 3 million rows), a text whose rare trigrams are both in many
recent titles walks those first ("photo 2999999": "299" and "999" are in every recent title; three
pages 16.7 → 9.8 ms), and a text whose trigrams are all common but which is in few titles keeps the
phrase's cost.

**Start-up (about 1 s of CPU to the first 200; the wall-clock figure depends on the machine's
load) and listing (met).** After the changes above a start uses about 1.0–1.1 s of CPU with npm
(about 0.1–0.15 s of it npm's own), so \`npm start\` answers in about 1 s on this machine when it is
fairly quiet (0.94–0.96 s at a load average of 5–7); with other work on the same 2 cores the
wall-clock time is that CPU time stretched by waiting for a core (about 2 s at a load average near
10). What remains is mostly module loading: Kysely's and
TypeBox's hundreds of ES modules, Fastify and its plugins, prom-client (metrics are on by default,
and the first request must be counted, so it loads at start). A bundled \`dist\` (one file instead
of about 1,600) would cut the per-file cost of Node's loader, but changes how the server finds its
views, locales, workers and native modules; not done. Listing walks
\`images_user_id (user_id, id)\` (or \`images_user_listed_id\`) as a keyset range, so page 5,000 costs
what page 1 costs; its p99 is set by the machine's scheduling noise, not by the query (p50 is well
under a millisecond).

**Ingest (met; issue 20's ≥ 0.9 of the one-decode reference not reached, not changed yet).** A
main-thread profile of 16 uploads of a 4.5 MB 12 MP JPEG, two at a time (107 CPU-ms per upload in
all threads on this loaded machine), has the main thread idle 73% of the time: the pixel work runs
on libuv's pool and sets the pace. Of the main thread's busy time, multipart parsing (busboy's
boundary search) and the spool's write path are the largest parts (about 5% and 3% of all
samples), then handing 1 MiB batches to the md5 thread (\`postMessage\`, about 4%), creating the
upload's work folder (\`mkdtemp\` and \`mkdir\`, about 2–3%) and the database work (under 1%). Shoebox now does less pixel work than the plain \`clone()\` reference; against the
stricter one-decode reference the ratio (about 0.65–0.7) is the cost of the HTTP request: receiving
and parsing 4–5 MB of multipart, md5 and spooling (about 20 CPU-ms per upload), the name claim, the
insert and the answer. On a busy machine the upload path also waits on libuv's thread pool, which
sharp's jobs share with every file-system call: operators can start the server with
\`UV_THREADPOOL_SIZE=16\` (it must be in the environment; the ES module loader has already started
the pool before any of Shoebox's code runs, so it cannot be set from inside).
`;
