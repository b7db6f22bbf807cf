/**
 * A real nginx for scenario tests: Debian's `nginx` inside a private network namespace, serving
 * one static page behind `auth_basic` (an htpasswd file made with `openssl passwd -apr1`) over
 * HTTP on ADDRESS:80 and HTTPS on ADDRESS:443 (a self-signed certificate made with openssl), its
 * error log (where `auth_basic` writes `user "x": password mismatch` and `user "x" was not found
 * in "…"`) in a file the test chooses; and `curl` in the namespace as the client, from any
 * loopback source address.
 *
 * Nothing on the host changes: the configuration sets every path nginx would otherwise take from
 * its build (pid file, temp directories, error log) into the test's directory, so no mount
 * namespace is needed; `-g 'daemon off;'` keeps the master process the child of the test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Netns } from './netns.js';
import { sleep } from './servers.js';
import { spawnDaemon, type Daemon } from './processes.js';

export interface NginxOptions {
  /** The error log nginx writes (its directory is created). */
  readonly errorLog: string;
  /** A sub-directory of the test directory for this nginx's own files (default `nginx`). */
  readonly name?: string;
  /** The address it listens on, ports 80 and 443 (default 127.0.0.1). */
  readonly address?: string;
  readonly user?: string;
  readonly password?: string;
}

export interface Nginx extends Daemon {
  readonly address: string;
  readonly user: string;
  readonly password: string;
  readonly errorLog: string;
}

function conf(home: string, address: string, errorLog: string): string {
  const tmp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${home}/tmp/${k};`);
  return [
    'user nobody nogroup;',
    'worker_processes 1;',
    `pid ${home}/nginx.pid;`,
    `error_log ${errorLog};`,
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    ...tmp,
    '  server {',
    `    listen ${address}:80;`,
    `    listen ${address}:443 ssl;`,
    '    server_name localhost;',
    `    ssl_certificate ${home}/cert.pem;`,
    `    ssl_certificate_key ${home}/key.pem;`,
    '    auth_basic "portcullis";',
    `    auth_basic_user_file ${home}/htpasswd;`,
    `    root ${home}/www;`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function must(ns: Netns, cmd: string, args: readonly string[]): string {
  const r = ns.run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${String(r.status)}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Starts `nginx -g 'daemon off;' -c DIR/NAME/nginx.conf -p DIR/NAME/` in the namespace; resolves
 * once the right password gets 200 over both HTTP and HTTPS. The workers run as nobody, so the
 * test directory is made traversable (0711).
 */
export async function startNginx(ns: Netns, dir: string, opts: NginxOptions): Promise<Nginx> {
  const home = path.join(dir, opts.name ?? 'nginx');
  const address = opts.address ?? '127.0.0.1';
  const user = opts.user ?? 'alice';
  const password = opts.password ?? 'portcullis-right';
  fs.chmodSync(dir, 0o711);
  fs.mkdirSync(path.join(home, 'www'), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(home, 'tmp'), { mode: 0o755 });
  fs.mkdirSync(path.dirname(opts.errorLog), { recursive: true });
  fs.writeFileSync(path.join(home, 'www', 'index.html'), 'portcullis behind auth_basic\n', { mode: 0o644 });
  must(ns, 'openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', `${home}/key.pem`, '-out', `${home}/cert.pem`]);
  const hash = must(ns, 'openssl', ['passwd', '-apr1', password]).trim();
  fs.writeFileSync(path.join(home, 'htpasswd'), `${user}:${hash}\n`, { mode: 0o644 });
  fs.writeFileSync(path.join(home, 'nginx.conf'), conf(home, address, opts.errorLog));
  must(ns, 'nginx', ['-t', '-q', '-c', `${home}/nginx.conf`, '-p', `${home}/`, '-g', 'daemon off;']);

  const outFile = path.join(home, 'nginx.out');
  const { proc, exited } = spawnDaemon(ns, ['nginx', '-c', `${home}/nginx.conf`, '-p', `${home}/`, '-g', 'daemon off;'], outFile);
  const nginx: Nginx = { ...proc, stop: () => proc.stop(), address, user, password, errorLog: opts.errorLog };
  const until = Date.now() + 20000;
  for (;;) {
    const http = await httpGet(ns, nginx, { scheme: 'http', source: '127.0.0.1', password });
    const https = await httpGet(ns, nginx, { scheme: 'https', source: '127.0.0.1', password });
    if (http.outcome === 'ok' && https.outcome === 'ok') return nginx;
    if (exited() || Date.now() > until) {
      await nginx.stop();
      const log = fs.existsSync(opts.errorLog) ? fs.readFileSync(opts.errorLog, 'utf8') : '';
      throw new Error(`nginx did not serve ${address} (exited: ${String(exited())}; http ${http.code}, https ${https.code}):\n${fs.readFileSync(outFile, 'utf8')}${log}`);
    }
    await sleep(100);
  }
}

/** How one request ended: 200, 401 (auth_basic refused the credentials), refused by the kernel. */
export type HttpOutcome = 'ok' | 'unauthorized' | 'refused' | 'other';

export interface HttpAttempt {
  readonly outcome: HttpOutcome;
  /** curl's `%{http_code}` (000 when no response). */
  readonly code: string;
  readonly status: number | null;
  readonly stderr: string;
}

export interface HttpRequest {
  readonly scheme: 'http' | 'https';
  readonly source: string;
  /** Default: the nginx's own user. */
  readonly user?: string;
  readonly password: string;
}

/** `curl --interface SOURCE -u USER:PASSWORD SCHEME://ADDRESS/` in the namespace (no retries, no proxy). */
export async function httpGet(ns: Netns, nginx: Pick<Nginx, 'address' | 'user'>, req: HttpRequest): Promise<HttpAttempt> {
  const url = `${req.scheme}://${nginx.address}/`;
  const args = ['-q', '-sS', '-k', '--noproxy', '*', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}'];
  args.push('--interface', req.source, '-u', `${req.user ?? nginx.user}:${req.password}`, url);
  const r = await ns.runAsync('curl', args);
  const code = r.stdout.trim();
  const outcome: HttpOutcome = r.status === 7 ? 'refused' : r.status !== 0 ? 'other' : code === '200' ? 'ok' : code === '401' ? 'unauthorized' : 'other';
  return { outcome, code, status: r.status, stderr: r.stderr };
}
