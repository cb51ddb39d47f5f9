/**
 * The proxy's listeners: the main port, each DSN's ListenPort, and their drain on close. A request
 * is routed once (routing/route-request.ts: the ordered passes that decide gateway, dedicated port,
 * forward proxy, admin or refusal), then acted on: forwarded by an Exchange (forward/exchange.ts),
 * which attaches the DSN's credential and streams to the upstream through undici; answered by the
 * admin routes; or refused with a problem. CONNECT goes to `connectHandler` (501 unless a CONNECT
 * handler from lib/proxy/connect is given).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions } from 'node:tls';
import type { CredentialProvider } from '../auth/credential.js';
import { systemClock, type Clock } from '../clock.js';
import type { DsnConfig } from '../config/dsn.js';
import { AdminRouteError, ConfigError } from '../errors.js';
import { sendProblem } from '../http/problem.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { isLoopbackAddress, isLoopbackHost } from '../net/loopback.js';
import { admitClient } from './access/client-key.js';
import { KeyGate, type AccessObserver } from './access/key-gate.js';
import { acceptedHostNames, requireClientKeys } from './access/remote-mode.js';
import type { AdminHost } from './admin/admin-host.js';
import { AdminRoutes } from './admin/admin-routes.js';
import { healthRoute } from './admin/health.js';
import { PlainHttpTunnels } from './connect/plain-http.js';
import { refuseConnect } from './connect/refusal.js';
import { answerPreflight } from './cors.js';
import type { ConnectHandler, ConnectHost } from './connect/types.js';
import { PROXY_DEFAULTS } from './defaults.js';
import { DsnBindings, reloadDiff, type ReloadResult } from './bindings.js';
import { clientTimeouts, type ClientTimeouts } from './client-timeouts.js';
import {
  Exchange,
  type ExchangeContext,
  type ExchangeObserver,
  type ExchangeTarget,
} from './forward/exchange.js';
import { createListenerServer, listen, urlHost } from './listener-server.js';
import { RequestActivity } from './request-activity.js';
import { HostCheck } from './routing/host-check.js';
import type { Route } from './routing/route.js';
import {
  routeDsnRequest,
  routeRequest,
  type DsnRequestOptions,
  type RoutingListener,
} from './routing/route-request.js';
import { RouteTable } from './routing/route-table.js';
import { dsnPath } from './routing/url-parts.js';
import { plainHttpTunnel, routeTunnelledRequest } from './routing/tunnel-route.js';

export interface StartServerOptions {
  dsns: readonly DsnConfig[];
  /** default 127.0.0.1; anything not loopback needs allowRemote */
  host?: string;
  /** default 8790; 0 picks a free port */
  port?: number;
  allowRemote?: boolean;
  /**
   * names clients use for this machine (`--accept-host`), accepted in Host besides loopback and the
   * listen address; with allowRemote the machine's own name is accepted too
   */
  acceptHosts?: readonly string[];
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
  /** what answers under /_tokenshim/ (lib/proxy/admin/index.ts adminRoutes); default health only */
  adminRoutes?: AdminRoutes;
  /** replaces the 501 answer to CONNECT (lib/proxy/connect/connect-handler.ts) */
  createConnectHandler?: (host: ConnectHost) => ConnectHandler;
  /** how long clients may take to send headers, and stay silent; default PROXY_DEFAULTS */
  clientTimeouts?: Partial<ClientTimeouts>;
  /** told about every refused ClientKey or AdminKey (metrics); refusals are logged too */
  accessObserver?: AccessObserver;
  /** waits before RetryOnStatus retries, and the key gate's lockouts; default the system clock */
  clock?: Clock;
  /**
   * serve HTTPS with this certificate and key (or PFX) on the main port and every ListenPort, so
   * ClientKeys and data do not cross the network in clear (--tls-cert/--tls-key, --tls-pfx)
   */
  tls?: Pick<SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase'>;
}

export interface TokenshimServer extends AdminHost, ConnectHost {
  /** `http://127.0.0.1:8790` (https with StartServerOptions.tls) */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** what answers under /_tokenshim/ */
  readonly adminRoutes: AdminRoutes;
  /** answers CONNECT (StartServerOptions.createConnectHandler); its close() runs on close */
  connectHandler: ConnectHandler;
  /** told about every forwarded request when it ends (metrics, access log) */
  observer: ExchangeObserver | undefined;
  /** requests being forwarded right now */
  readonly inFlight: number;
  /** how long clients may take to send headers, and stay silent */
  readonly clientTimeouts: ClientTimeouts;
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

/** The main port (`dsnName` undefined) or a DSN's ListenPort; reloads may move a port to another DSN. */
interface Listener extends RoutingListener {
  port: number;
  dsnName: string | undefined;
}

interface DedicatedListener extends Listener {
  readonly server: Server;
  dsnName: string;
}

class ProxyServer implements TokenshimServer {
  readonly adminRoutes: AdminRoutes;
  connectHandler: ConnectHandler = refuseConnect;
  readonly host: string;
  readonly clientTimeouts: ClientTimeouts;
  readonly #opts: StartServerOptions;
  readonly #log: Logger;
  readonly #main: Server;
  readonly #mainListener: Listener;
  readonly #hostCheck: HostCheck;
  readonly #activity = new RequestActivity();
  readonly #dedicated = new Map<number, DedicatedListener>();
  #table = new RouteTable([]);
  #reloading: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;
  readonly #bindings: DsnBindings;
  /** what every Exchange shares, made once (and again when the observer changes) */
  #exchangeContext: ExchangeContext;
  /** CONNECTs to DSN origins that speak plain HTTP; made on the first one */
  #plainTunnels: PlainHttpTunnels | undefined;
  readonly #keys: KeyGate;
  readonly #scheme: 'http' | 'https';

  constructor(opts: StartServerOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ component: 'proxy' });
    this.host = opts.host ?? PROXY_DEFAULTS.host;
    this.clientTimeouts = clientTimeouts(opts.clientTimeouts);
    if (!isLoopbackHost(this.host) && !opts.allowRemote) {
      throw new ConfigError(
        `Listening on ${this.host} would let other machines use every DSN's credentials. ` +
          'Keep the default 127.0.0.1, or pass --allow-remote if that is really wanted.',
      );
    }
    this.#scheme = opts.tls === undefined ? 'http' : 'https';
    this.#hostCheck = new HostCheck(
      this.host,
      acceptedHostNames(opts.acceptHosts ?? [], opts.allowRemote === true),
    );
    // the port is the requested one until listen() knows the real one (port 0 picks a free one)
    this.#mainListener = {
      port: opts.port ?? PROXY_DEFAULTS.port,
      dsnName: undefined,
      hostCheck: this.#hostCheck,
      gateway: () => this.url,
      scheme: this.#scheme,
    };
    this.#bindings = new DsnBindings({
      createProvider: opts.createProvider,
      logger: opts.logger ?? silentLogger,
      configPath: opts.configPath,
      env: opts.env ?? process.env,
      activity: this.#activity,
      selfPort: () => this.port,
    });
    this.#exchangeContext = {
      log: this.#log,
      observer: opts.observer,
      clientIdleMs: this.clientTimeouts.idleMs,
      clock: opts.clock ?? systemClock,
    };
    const log = this.#log;
    this.#keys = new KeyGate({
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      observer: {
        keyRefused(e) {
          // the address and the DSN, never what was presented
          log.warn(
            e,
            `${e.kind === 'client_key' ? 'ClientKey' : 'AdminKey'} refused (${e.outcome})`,
          );
          opts.accessObserver?.keyRefused(e);
        },
      },
    });
    this.adminRoutes = opts.adminRoutes ?? new AdminRoutes().add(healthRoute);
    this.#main = this.#createHttpServer(this.#mainListener);
    if (opts.createConnectHandler) this.connectHandler = opts.createConnectHandler(this);
  }

  get port(): number {
    return this.#mainListener.port;
  }

  get observer(): ExchangeObserver | undefined {
    return this.#exchangeContext.observer;
  }

  set observer(observer: ExchangeObserver | undefined) {
    this.#exchangeContext = { ...this.#exchangeContext, observer };
  }

  /** on a wildcard address (0.0.0.0, ::), the loopback URL: that one works from this machine */
  get url(): string {
    return `${this.#scheme}://${urlHost(this.#clientHost())}:${this.port}`;
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
        `listening on ${this.host}: other machines can reach tokenshim (each DSN asks for its ClientKey)`,
      );
      if (this.#opts.tls === undefined) {
        this.#log.warn(
          { host: this.host },
          'serving http:// to other machines: ClientKeys and data cross the network unencrypted; serve https with --tls-cert and --tls-key (or --tls-pfx)',
        );
      }
    }
    if (this.#opts.allowRemote) requireClientKeys(this.#opts.dsns);
    const bindings = await this.#bindings.bindAll(this.#opts.dsns, undefined);
    try {
      await listen(this.#main, this.host, this.port, 'the proxy port (--port)');
      this.#mainListener.port = (this.#main.address() as { port: number }).port;
      this.#install(new RouteTable(bindings));
      await this.#syncDedicatedListeners();
      for (const b of bindings) b.activate();
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
    return b && `${this.url}${dsnPath(b.dsn.name)}`;
  }

  dedicatedUrl(name: string): string | undefined {
    const port = this.#table.byName(name)?.dsn.listenPort;
    return port === undefined
      ? undefined
      : `${this.#scheme}://${urlHost(this.#clientHost())}:${port}`;
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
    if (this.#opts.allowRemote) requireClientKeys(next);
    const old = this.#table;
    const bindings = await this.#bindings.bindAll(next, old);
    const { result, retired } = reloadDiff(old, bindings);
    for (const b of retired) void b.retire();
    this.#install(new RouteTable(bindings));
    await this.#syncDedicatedListeners();
    for (const b of bindings) b.activate();
    this.#log.info({ ...result, config: this.#opts.configPath }, 'configuration reloaded');
    return result;
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
        hostCheck: this.#hostCheck,
        gateway: () => this.url,
        scheme: this.#scheme,
      };
      (listener as { server: Server }).server = this.#createHttpServer(listener);
      await listen(listener.server, this.host, port, `ListenPort=${port} of DSN "${name}"`);
      this.#dedicated.set(port, listener);
    }
  }

  #createHttpServer(listener: Listener): Server {
    return createListenerServer(this.#opts.tls, this.clientTimeouts, {
      request: (req, res, expectContinue) => this.#onRequest(req, res, listener, expectContinue),
      connect: (req, socket, head) => this.#onConnect(req, socket, head),
    });
  }

  #onRequest(
    req: IncomingMessage,
    res: ServerResponse,
    listener: RoutingListener,
    expectContinue: boolean,
  ): void {
    // while draining, answered connections close instead of waiting for more requests
    if (this.#activity.draining) res.shouldKeepAlive = false;
    this.#act(routeRequest(req, listener, this.#table), req, res, expectContinue);
  }

  /**
   * A CONNECT to a DSN origin that speaks plain HTTP is served here, with or without a CONNECT
   * handler (no CA is needed to read it); anything else is the handler's (TLS, tunnels, refusal).
   */
  #onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const tunnel = this.#closing ? undefined : plainHttpTunnel(req.url ?? '', this.#table);
    if (tunnel === undefined) return this.connectHandler(req, socket, head);
    this.#plainTunnels ??= new PlainHttpTunnels({
      timeouts: this.clientTimeouts,
      logger: this.#log,
      serve: (inner, res, t, expectContinue) =>
        this.#act(
          routeTunnelledRequest(inner, this.#table, t, this.url),
          inner,
          res,
          expectContinue,
        ),
    });
    this.#plainTunnels.open(socket, head, tunnel);
  }

  #act(route: Route, req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    switch (route.kind) {
      case 'forward':
        return this.#forward(route.target, req, res, expectContinue);
      case 'admin':
        return this.#admin(route.path, req, res);
      case 'refuse':
        return sendProblem(res, route.error);
      case 'preflight':
        return answerPreflight(res, route);
    }
  }

  #admin(path: string, req: IncomingMessage, res: ServerResponse): void {
    const fromLoopback = isLoopbackAddress(req.socket.remoteAddress);
    const ctx = { req, res, server: this, fromLoopback, keys: this.#keys };
    this.adminRoutes.handle(ctx, path).catch((e: unknown) => {
      this.#log.error({ err: e, path: req.url }, 'admin route failed');
      sendProblem(
        res,
        new AdminRouteError(501, `/_tokenshim route failed (${(e as Error).name}).`),
      );
    });
  }

  #forward(
    target: ExchangeTarget,
    req: IncomingMessage,
    res: ServerResponse,
    expectContinue: boolean,
  ): void {
    const admitted = admitClient(target, req, res, this.#keys);
    if (admitted === undefined) return;
    const exchange = new Exchange(admitted, req, res, this.#exchangeContext);
    exchange.run(expectContinue).catch((e: unknown) => {
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
    this.#act(
      routeDsnRequest(req, this.#table, name, upstreamPath, opts, this.url),
      req,
      res,
      false,
    );
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
    await this.connectHandler.close().catch(() => undefined);
    await this.#plainTunnels?.close();
    const bindings = this.#table.bindings;
    await Promise.allSettled(bindings.map((b) => (drained ? b.retire() : b.destroy())));
    await Promise.all(closed);
  }
}
