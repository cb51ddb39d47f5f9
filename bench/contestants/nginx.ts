import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcesses } from '../child-processes.js';

export interface NginxContestant {
  readonly url: string;
  readonly pid: number;
  close(): Promise<void>;
}

/**
 * nginx configured the way a careful user would put it in front of an API to add a credential:
 * `proxy_pass` to an upstream block with keep-alive, `proxy_set_header Authorization`, and both
 * directions streamed (`proxy_buffering off`, `proxy_request_buffering off`) as tokenshim streams,
 * so a 1 MiB body is not spooled to a temp file.
 *
 * One worker: tokenshim is one node process, so one nginx worker is the like-for-like comparison
 * (nginx with `worker_processes auto` would take both cores of this machine from the load generator
 * and the upstream). Access log off: the bench discards tokenshim's log stream too.
 */
export function nginxConfig(
  dir: string,
  listenPort: number,
  upstreamPort: number,
  authorization: string,
): string {
  return `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_max_body_size 0;
  upstream api {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "${authorization}";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`;
}

/**
 * Starts nginx on a free port (nginx cannot report a port 0 choice, so one is picked here and
 * retried if another process takes it first).
 */
export async function startNginx(
  children: ChildProcesses,
  dir: string,
  upstreamPort: number,
  authorization: string,
): Promise<NginxContestant> {
  mkdirSync(dir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig(dir, port, upstreamPort, authorization));
    const child = children.spawn('nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')]);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    if (await listening(child, port)) {
      return {
        url: `http://127.0.0.1:${port}`,
        pid: child.pid!,
        close: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          // SIGQUIT: graceful shutdown, workers finish and the master exits
          child.kill('SIGQUIT');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        },
      };
    }
    child.kill('SIGKILL');
    if (attempt >= 3 || !stderr.includes('Address already in use')) {
      throw new Error(`nginx did not start: ${stderr.trim()}`);
    }
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** true once the port accepts connections; false if nginx exits first or takes over 5 s */
async function listening(child: ChildProcess, port: number): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(50);
  }
  return false;
}
