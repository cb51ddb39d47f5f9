/**
 * The proxy (issue 4). A request is routed once, then handed to an Exchange (forward/exchange.ts)
 * that attaches the DSN's credential and streams it to the upstream through undici:
 *
 * - `/_tokenshim/...`: tokenshim's own admin routes (admin/admin-routes.ts, a table);
 * - `/<DSN>/<path>?<query>` (gateway): `<HostName>/<path>?<query>`, DSN names ignore case;
 * - any path on a DSN's `ListenPort` (dedicated port): `<HostName>/<path>`;
 * - `GET http://host/x` (absolute form, tokenshim as HTTP_PROXY): the DSN whose HostName or
 *   AllowedHosts has that origin, over https when HostName is; any other origin is refused;
 * - `CONNECT`: `connectHandler` (501 here; lib/proxy/connect.ts intercepts with a local CA).
 *
 * Origin-form requests must name loopback or the listen address in Host (DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { CredentialProvider } from '../auth/credential.js';
import { createCredentialProvider } from '../auth/provider.js';
import type { DsnConfig } from '../config/dsn.js';
import {
  AdminRouteError,
  ConfigError,
  ForeignOriginError,
  HostNotAllowedError,
  TooManyHeadersError,
  UnknownDsnError,
} from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { AdminRoutes } from './admin/admin-routes.js';
import { healthRoute } from './admin/health.js';
import { reloadRoute } from './admin/reload.js';
import { tokenRoute } from './admin/token-route.js';
import { refuseConnect, type ConnectHandler } from './connect-refusal.js';
import { PROXY_DEFAULTS } from './defaults.js';
import { DsnBinding, dsnFingerprint } from './dsn-binding.js';
import { Exchange, type ExchangeObserver, type ExchangeTarget } from './forward/exchange.js';
import { HostCheck } from './host-check.js';
import { sendProblem } from './problem-response.js';
import { RequestActivity } from './request-activity.js';
import { RouteTable } from './route-table.js';
import { createUpstreamDispatcher } from './upstream-dispatcher.js';

export type { ConnectHandler } from './connect-refusal.js';
export type { ExchangeEvent, ExchangeObserver } from './forward/exchange.js';
export type { AdminContext, AdminRoute } from './admin/admin-routes.js';

export interface StartServerOptions {
  dsns: readonly DsnConfig[];
  /** default 127.0.0.1; anything not loopback needs allowRemote */
  host?: string;
  /** default 8790; 0 picks a free port */
  port?: number;
  allowRemote?: boolean;
  /** the token engine per DSN; default lib/auth/provider.ts createCredentialProvider */
  createProvider?: (dsn: DsnConfig) => CredentialProvider | Promise<CredentialProvider>;
  logger?: Logger;
  /** shown in logs; reloadConfig does the reading */
  configPath?: string;
  /** what SIGHUP and POST /_tokenshim/reload read */
  reloadConfig?: () => Promise<readonly DsnConfig[]>;
  /** HTTP(S)_PROXY / NO_PROXY for upstream calls; default process.env */
  env?: NodeJS.ProcessEnv;
  /** told about every forwarded request when it ends (metrics); settable later as server.observer */
  observer?: ExchangeObserver;
  /** replaces the 501 answer to CONNECT (lib/proxy/connect.ts) */
  createConnectHandler?: (server: TokenshimServer) => ConnectHandler;
}

export interface ReloadResult {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export interface DsnRequestOptions {
  /** origin to call: the DSN's upstream (default) or one of its AllowedHosts */
  origin?: string;
  /** origin the client believes it talks to, for Location/Link rewriting; default `origin` */
  publicOrigin?: string;
}

export interface TokenshimServer {
  /** `http://127.0.0.1:8790` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** extension point for /_tokenshim/<route> (ready, metrics, status) */
  readonly adminRoutes: AdminRoutes;
  /** answers CONNECT; swap in lib/proxy/connect.ts's handler (its close() runs on close) */
  connectHandler: ConnectHandler;
  /** told about every forwarded request when it ends (metrics, access log) */
  observer: ExchangeObserver | undefined;
  /** requests being forwarded right now */
  readonly inFlight: number;
  dsns(): readonly DsnConfig[];
  /** the gateway URL of a DSN (`http://127.0.0.1:8790/marketo`), undefined when unknown */
  dsnUrl(name: string): string | undefined;
  /** `http://127.0.0.1:9001` for a DSN with ListenPort, else undefined */
  dedicatedUrl(name: string): string | undefined;
  /** the DSN's token engine (for status, ready, metrics) */
  provider(name: string): CredentialProvider | undefined;
  providers(): ReadonlyMap<string, CredentialProvider>;
  /** applies a new DSN list (default: opts.reloadConfig()); in-flight requests are not cut */
  reload(dsns?: readonly DsnConfig[]): Promise<ReloadResult>;
  /** stops accepting, lets in-flight requests finish (up to drainMs), closes every provider */
  close(opts?: { drainMs?: number }): Promise<void>;
  /**
   * Forwards one request for a DSN through the same path as the gateway. `upstreamPath` is the
   * path and query at the origin (the DSN's base path is not prepended). Used by the CONNECT
   * interceptor for decrypted requests.
   */
  handleDsnRequest(
    dsn: string | DsnConfig,
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    opts?: DsnRequestOptions,
  ): void;
}

export async function startServer(opts: StartServerOptions): Promise<TokenshimServer> {
  const server = new ProxyServer(opts);
  await server.start();
  return server;
}

interface DedicatedListener {
  readonly server: Server;
  readonly port: number;
  dsnName: string;
}

const ABSOLUTE_FORM = /^https?:\/\//i;

class ProxyServer implements TokenshimServer {
  readonly adminRoutes = new AdminRoutes()
    .add(healthRoute)
    .add(reloadRoute)
    // issue 7: POST /_tokenshim/token/<DSN>, answered only for DSNs with ExposeTokens=1
    .add(tokenRoute);
  connectHandler: ConnectHandler = refuseConnect;
  observer: ExchangeObserver | undefined;
  readonly host: string;
  #port: number;
  readonly #opts: StartServerOptions;
  readonly #log: Logger;
  readonly #main: Server;
  readonly #hostCheck: HostCheck;
  readonly #activity = new RequestActivity();
  readonly #dedicated = new Map<number, DedicatedListener>();
  readonly #maxRawHeaders = PROXY_DEFAULTS.maxHeaderCount * 2;
  #table = new RouteTable([]);
  #reloading: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;
  readonly #createProvider:
    ((dsn: DsnConfig) => CredentialProvider | Promise<CredentialProvider>) | undefined;

  constructor(opts: StartServerOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ component: 'proxy' });
    this.host = opts.host ?? PROXY_DEFAULTS.host;
    this.#port = opts.port ?? PROXY_DEFAULTS.port;
    if (!isLoopbackHost(this.host) && !opts.allowRemote) {
      throw new ConfigError(
        `Listening on ${this.host} would let other machines use every DSN's credentials. ` +
          'Keep the default 127.0.0.1, or pass --allow-remote if that is really wanted.',
      );
    }
    this.#hostCheck = new HostCheck(this.host);
    this.#createProvider = opts.createProvider;
    this.observer = opts.observer;
    this.#main = this.#createHttpServer(undefined);
    if (opts.createConnectHandler) this.connectHandler = opts.createConnectHandler(this);
  }

  get port(): number {
    return this.#port;
  }

  /** on a wildcard address (0.0.0.0, ::), the loopback URL: that one works from this machine */
  get url(): string {
    return `http://${urlHost(this.#clientHost())}:${this.#port}`;
  }

  #clientHost(): string {
    return this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
  }

  get inFlight(): number {
    return this.#activity.count;
  }

  async start(): Promise<void> {
    if (!isLoopbackHost(this.host)) {
      this.#log.warn(
        { host: this.host },
        `listening on ${this.host}: other machines can use every DSN's credentials through tokenshim`,
      );
    }
    const bindings = await this.#bindAll(this.#opts.dsns, undefined);
    try {
      await listen(this.#main, this.host, this.#port, 'the proxy port (--port)');
      this.#port = (this.#main.address() as { port: number }).port;
      this.#install(new RouteTable(bindings));
      await this.#syncDedicatedListeners();
    } catch (e) {
      this.#main.close();
      for (const l of this.#dedicated.values()) l.server.close();
      await Promise.allSettled(bindings.map((b) => b.retire()));
      throw e;
    }
  }

  dsns(): readonly DsnConfig[] {
    return this.#table.bindings.map((b) => b.dsn);
  }

  dsnUrl(name: string): string | undefined {
    const b = this.#table.byName(name);
    return b && `${this.url}/${encodeURIComponent(b.dsn.name)}`;
  }

  dedicatedUrl(name: string): string | undefined {
    const port = this.#table.byName(name)?.dsn.listenPort;
    return port === undefined ? undefined : `http://${urlHost(this.#clientHost())}:${port}`;
  }

  provider(name: string): CredentialProvider | undefined {
    return this.#table.byName(name)?.provider;
  }

  providers(): ReadonlyMap<string, CredentialProvider> {
    return new Map(this.#table.bindings.map((b) => [b.dsn.name, b.provider]));
  }

  reload(dsns?: readonly DsnConfig[]): Promise<ReloadResult> {
    const run = this.#reloading.then(() => this.#reload(dsns));
    this.#reloading = run.catch(() => undefined);
    return run;
  }

  async #reload(dsns: readonly DsnConfig[] | undefined): Promise<ReloadResult> {
    if (this.#closing)
      throw new AdminRouteError(403, 'tokenshim is shutting down; nothing to reload.');
    let next = dsns;
    if (next === undefined) {
      if (!this.#opts.reloadConfig) {
        throw new AdminRouteError(
          501,
          'This tokenshim was started without a config source to re-read.',
        );
      }
      next = await this.#opts.reloadConfig();
    }
    const old = this.#table;
    const bindings = await this.#bindAll(next, old);
    const kept = new Set(bindings);
    const result: ReloadResult = { added: [], removed: [], changed: [], unchanged: [] };
    for (const b of bindings) {
      const prior = old.byName(b.dsn.name);
      if (!prior) result.added.push(b.dsn.name);
      else if (prior === b) result.unchanged.push(b.dsn.name);
      else result.changed.push(b.dsn.name);
    }
    for (const b of old.bindings) {
      if (kept.has(b)) continue;
      if (!bindings.some((n) => n.dsn.name.toLowerCase() === b.dsn.name.toLowerCase())) {
        result.removed.push(b.dsn.name);
      }
      void b.retire();
    }
    this.#install(new RouteTable(bindings));
    await this.#syncDedicatedListeners();
    this.#log.info({ ...result, config: this.#opts.configPath }, 'configuration reloaded');
    return result;
  }

  /** Bindings for a DSN list, reusing the unchanged ones of `old` (their tokens survive a reload). */
  async #bindAll(dsns: readonly DsnConfig[], old: RouteTable | undefined): Promise<DsnBinding[]> {
    const made: DsnBinding[] = [];
    const out: DsnBinding[] = [];
    try {
      for (const dsn of dsns) {
        const prior = old?.byName(dsn.name);
        if (prior && prior.dsn.name === dsn.name && prior.fingerprint === dsnFingerprint(dsn)) {
          out.push(prior);
          continue;
        }
        const binding = await this.#bind(dsn);
        made.push(binding);
        out.push(binding);
      }
    } catch (e) {
      await Promise.allSettled(made.map((b) => b.retire()));
      throw e;
    }
    return out;
  }

  async #bind(dsn: DsnConfig): Promise<DsnBinding> {
    const dispatcher = createUpstreamDispatcher(dsn, {
      env: this.#opts.env ?? process.env,
      selfPort: this.#port,
    });
    try {
      const provider = await (this.#createProvider
        ? this.#createProvider(dsn)
        : createCredentialProvider(dsn, {
            logger: this.#opts.logger ?? silentLogger,
            ...(this.#opts.configPath === undefined ? {} : { configPath: this.#opts.configPath }),
          }));
      return new DsnBinding(dsn, provider, dispatcher, this.#activity);
    } catch (e) {
      await dispatcher.close().catch(() => undefined);
      throw e;
    }
  }

  #install(table: RouteTable): void {
    for (const conflict of table.conflicts) this.#log.warn(conflict);
    this.#table = table;
  }

  async #syncDedicatedListeners(): Promise<void> {
    const wanted = new Map<number, string>();
    for (const b of this.#table.bindings) {
      const port = b.dsn.listenPort;
      if (port !== undefined && !wanted.has(port)) wanted.set(port, b.dsn.name);
    }
    for (const [port, listener] of this.#dedicated) {
      const name = wanted.get(port);
      if (name === undefined) {
        this.#dedicated.delete(port);
        listener.server.close();
        listener.server.closeIdleConnections();
      } else {
        listener.dsnName = name;
      }
    }
    for (const [port, name] of wanted) {
      if (this.#dedicated.has(port)) continue;
      const listener: DedicatedListener = {
        server: undefined as unknown as Server,
        port,
        dsnName: name,
      };
      (listener as { server: Server }).server = this.#createHttpServer(listener);
      await listen(listener.server, this.host, port, `ListenPort=${port} of DSN "${name}"`);
      this.#dedicated.set(port, listener);
    }
  }

  #createHttpServer(dedicated: DedicatedListener | undefined): Server {
    const server = createServer({
      maxHeaderSize: PROXY_DEFAULTS.maxHeaderSizeBytes,
      // a 1 GiB upload over a slow link must not be cut by node's 300 s whole-request limit
      requestTimeout: 0,
      keepAliveTimeout: PROXY_DEFAULTS.clientKeepAliveMs,
    });
    // one more than accepted, so a request over the limit is seen (node drops the excess silently)
    server.maxHeadersCount = PROXY_DEFAULTS.maxHeaderCount + 1;
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.#onRequest(req, res, dedicated, false),
    );
    // answering `Expect: 100-continue` ourselves: refusals go out before the client sends its body
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
      this.#onRequest(req, res, dedicated, true),
    );
    server.on('connect', (req: IncomingMessage, socket, head: Buffer) =>
      this.connectHandler(req, socket, head),
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    return server;
  }

  #onRequest(
    req: IncomingMessage,
    res: ServerResponse,
    dedicated: DedicatedListener | undefined,
    expect: boolean,
  ): void {
    // while draining, answered connections close instead of waiting for more requests
    if (this.#activity.draining) res.shouldKeepAlive = false;
    const raw = req.rawHeaders;
    if (raw.length > this.#maxRawHeaders) {
      return sendProblem(
        res,
        new TooManyHeadersError(raw.length / 2, PROXY_DEFAULTS.maxHeaderCount),
      );
    }
    const url = req.url ?? '/';
    if (url.charCodeAt(0) !== 47 /* / */) {
      if (ABSOLUTE_FORM.test(url)) return this.#onAbsoluteForm(req, res, url, dedicated, expect);
      return sendProblem(res, new UnknownDsnError(url, this.#table.names));
    }
    const hostHeader = findHost(raw);
    if (!this.#hostCheck.allows(hostHeader)) {
      return sendProblem(res, new HostNotAllowedError(hostHeader ?? '(none)'));
    }
    this.#onOriginForm(req, res, url, `http://${hostHeader}`, dedicated, expect);
  }

  #onOriginForm(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    publicOrigin: string,
    dedicated: DedicatedListener | undefined,
    expect: boolean,
  ): void {
    if (dedicated !== undefined) {
      const binding = this.#table.byName(dedicated.dsnName);
      if (!binding)
        return sendProblem(res, new UnknownDsnError(dedicated.dsnName, this.#table.names));
      return this.#forward(req, res, expect, {
        binding,
        origin: binding.upstreamOrigin,
        host: binding.upstreamHost,
        path: joinPath(binding.upstreamBasePath, url),
        upstreamBasePath: binding.upstreamBasePath,
        publicOrigin,
        publicBasePath: '',
      });
    }
    if (url.startsWith(PROXY_DEFAULTS.adminPrefix)) {
      void this.adminRoutes
        .handle(
          { req, res, server: this, fromLoopback: isLoopbackAddress(req.socket.remoteAddress) },
          url.slice(PROXY_DEFAULTS.adminPrefix.length),
        )
        .catch((e: unknown) => {
          this.#log.error({ err: e, path: url }, 'admin route failed');
          sendProblem(
            res,
            new AdminRouteError(501, `/_tokenshim route failed (${(e as Error).name}).`),
          );
        });
      return;
    }
    let end = 1;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 47 || c === 63) break; // `/` or `?`
      end++;
    }
    const segment = url.slice(1, end);
    const name = segment.includes('%') ? safeDecode(segment) : segment;
    const binding = this.#table.byName(name);
    if (!binding) return sendProblem(res, new UnknownDsnError(name, this.#table.names));
    this.#forward(req, res, expect, {
      binding,
      origin: binding.upstreamOrigin,
      host: binding.upstreamHost,
      path: joinPath(binding.upstreamBasePath, url.slice(end)),
      upstreamBasePath: binding.upstreamBasePath,
      publicOrigin,
      publicBasePath: `/${segment}`,
    });
  }

  /** `GET http://api.example.com/x HTTP/1.1`: tokenshim used as HTTP_PROXY. */
  #onAbsoluteForm(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    dedicated: DedicatedListener | undefined,
    expect: boolean,
  ): void {
    const schemeEnd = url.indexOf('://') + 3;
    let authorityEnd = schemeEnd;
    while (authorityEnd < url.length) {
      const c = url.charCodeAt(authorityEnd);
      if (c === 47 || c === 63 || c === 35) break;
      authorityEnd++;
    }
    const scheme = url.slice(0, schemeEnd - 3).toLowerCase();
    let authority = url.slice(schemeEnd, authorityEnd).toLowerCase();
    const at = authority.lastIndexOf('@');
    if (at !== -1) authority = authority.slice(at + 1);
    authority = withoutDefaultPort(authority, scheme);
    const rest = url.slice(authorityEnd);
    const path = rest === '' || rest.charCodeAt(0) !== 47 ? `/${rest}` : rest;
    const publicOrigin = `${scheme}://${authority}`;

    // RFC 9112 3.2.2: a server must accept the absolute form of its own URLs
    if (this.#isSelf(authority, dedicated)) {
      return this.#onOriginForm(req, res, path, publicOrigin, dedicated, expect);
    }
    const target = this.#table.byAuthority(authority);
    if (!target) {
      return sendProblem(res, new ForeignOriginError(publicOrigin, this.#table.origins, this.url));
    }
    this.#forward(req, res, expect, {
      binding: target.binding,
      origin: target.origin,
      host: target.host,
      path,
      upstreamBasePath: '',
      publicOrigin,
      publicBasePath: '',
    });
  }

  #isSelf(authority: string, dedicated: DedicatedListener | undefined): boolean {
    const port = dedicated?.port ?? this.#port;
    const colon = authority.lastIndexOf(':');
    if (colon === -1 || authority.endsWith(']')) return false;
    if (Number(authority.slice(colon + 1)) !== port) return false;
    return this.#hostCheck.allows(authority);
  }

  #forward(
    req: IncomingMessage,
    res: ServerResponse,
    expect: boolean,
    target: ExchangeTarget,
  ): void {
    if (target.origin === '') {
      return sendProblem(
        res,
        new ConfigError(
          `DSN "${target.binding.dsn.name}" has no HostName: set HostName to the API's base URL.`,
        ),
      );
    }
    const exchange = new Exchange(target, req, res, this.#log, this.observer);
    exchange.run(expect).catch((e: unknown) => {
      this.#log.error({ err: e, dsn: target.binding.dsn.name }, 'forwarding failed');
      if (!res.headersSent) res.statusCode = 502;
      res.destroy();
    });
  }

  handleDsnRequest(
    dsn: string | DsnConfig,
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    opts: DsnRequestOptions = {},
  ): void {
    const name = typeof dsn === 'string' ? dsn : dsn.name;
    const binding = this.#table.byName(name);
    if (!binding) return sendProblem(res, new UnknownDsnError(name, this.#table.names));
    const origin = opts.origin === undefined ? binding.upstreamOrigin : safeOrigin(opts.origin);
    if (!binding.allowedOrigins.includes(origin)) {
      return sendProblem(
        res,
        new ForeignOriginError(opts.origin ?? origin, binding.allowedOrigins, this.url),
      );
    }
    const host = origin === binding.upstreamOrigin ? binding.upstreamHost : new URL(origin).host;
    this.#forward(req, res, false, {
      binding,
      origin,
      host,
      path: upstreamPath.charCodeAt(0) === 47 ? upstreamPath : `/${upstreamPath}`,
      upstreamBasePath: '',
      publicOrigin: opts.publicOrigin ?? origin,
      publicBasePath: '',
    });
  }

  close(opts: { drainMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(opts.drainMs ?? PROXY_DEFAULTS.drainMs);
    return this.#closing;
  }

  async #close(drainMs: number): Promise<void> {
    this.#activity.draining = true;
    const servers = [this.#main, ...[...this.#dedicated.values()].map((l) => l.server)];
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of servers) s.closeIdleConnections();
    this.#log.info(
      { inFlight: this.#activity.count, drainMs },
      'shutting down: draining in-flight requests',
    );
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#activity.idle().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), drainMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained)
      this.#log.warn(
        { inFlight: this.#activity.count },
        'drain time over: cutting the remaining requests',
      );
    for (const s of servers) s.closeAllConnections();
    await this.connectHandler.close?.().catch(() => undefined);
    const bindings = this.#table.bindings;
    await Promise.allSettled(bindings.map((b) => (drained ? b.retire() : b.destroy())));
    await Promise.all(closed);
  }
}

async function listen(server: Server, host: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        new ConfigError(
          e.code === 'EADDRINUSE'
            ? `Cannot listen on ${host}:${port} for ${what}: the port is in use (another tokenshim?). Stop it or choose another port.`
            : `Cannot listen on ${host}:${port} for ${what} (${e.code ?? e.message}).`,
        ),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function findHost(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') return raw[i + 1];
  }
  return undefined;
}

/** `/rest/v1` + `/items?x` → `/rest/v1/items?x`; `/rest/v1` + `?x` → `/rest/v1?x`; '' + '' → `/` */
function joinPath(base: string, rest: string): string {
  if (rest === '') return base === '' ? '/' : base;
  if (rest.charCodeAt(0) === 63 /* ? */) return (base === '' ? '/' : base) + rest;
  return base + rest;
}

function withoutDefaultPort(authority: string, scheme: string): string {
  if (scheme === 'http' && authority.endsWith(':80')) return authority.slice(0, -3);
  if (scheme === 'https' && authority.endsWith(':443')) return authority.slice(0, -4);
  return authority;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function safeOrigin(value: string): string {
  try {
    return new URL(value).origin;
  } catch {
    return value;
  }
}

export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') ? host.slice(1, -1) : host;
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
