import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from './shoebox.js';
import { startChild, waitFor200, type Child } from './processes.js';

export const NGINX = '/usr/sbin/nginx';

/**
 * With `accelUpstream`, nginx proxies /images/ to that Shoebox (started with
 * SHOEBOX_ACCEL_REDIRECT=/_shoebox_files) and sends the files Shoebox names from `root`.
 *
 * Debian's nginx serving `root` on a loopback port with its own temp config: one process (as
 * Shoebox is one Node process), Debian's defaults where they matter for speed (sendfile on,
 * tcp_nopush on, no open_file_cache), no access log, every path inside `dir`.
 */
export async function startNginx(dir: string, root: string, readyPath: string, options: { accelUpstream?: string } = {}): Promise<{ url: string; child: Child }> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `  ${name}_temp_path ${path.join(dir, `${name}-temp`)};`)
    .join('\n');
  const config = `# written by bench/lib/nginx.ts
daemon off;
# One process that both listens and serves (as Shoebox is one Node process); it also lets the
# benchmark read that process's CPU time and memory by its pid.
master_process off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  types { image/jpeg jpg jpeg; image/png png; image/webp webp; image/gif gif; video/mp4 mp4; }
  default_type application/octet-stream;
${tempPaths}
${
  options.accelUpstream
    ? `  # As deploy/nginx/shoebox.conf: an upstream block with idle connections kept open to Shoebox.
  upstream shoebox { server ${new URL(options.accelUpstream).host}; keepalive 32; }
`
    : ''
}  server {
    listen 127.0.0.1:${port};
    root ${root};
${
  options.accelUpstream
    ? `    # Shoebox decides (SHOEBOX_ACCEL_REDIRECT=/_shoebox_files), nginx sends: deploy/nginx/shoebox.conf.
    location /images/ { proxy_pass http://shoebox; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /_shoebox_files/ { internal; alias ${root}/; }`
    : '    location /images/ { }'
}
    location / { return 404; }
  }
}
`;
  const conf = path.join(dir, 'nginx.conf');
  await writeFile(conf, config);
  const child = startChild(NGINX, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', conf], { logFile: path.join(dir, 'stdout.log') });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}${readyPath}`, { timeoutMs: 10_000, child });
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { url, child };
}
