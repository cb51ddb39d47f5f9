import { Redis, ReplyError, type RedisOptions } from 'ioredis';

import { TokenStoreUnavailableError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { RedisLocation } from './redis-url.js';

const RESEND_PAUSE_MS = 25;

export interface RedisConnectionOptions {
  /** named in errors */
  dsn?: string;
  logger?: Logger;
  /** how long a command waits for a connection, and for its reply */
  commandTimeoutMs: number;
  /** merged last into ioredis's options (tests shorten retryStrategy) */
  redisOptions?: RedisOptions;
}

/**
 * One ioredis client that fails fast instead of queueing: a lock or a token write that runs after
 * its caller gave up could overwrite a newer token. ioredis keeps reconnecting on its own; a
 * second connection is opened on first use for pub/sub (a subscribed connection can do nothing else).
 */
export class RedisConnection {
  readonly description: string;
  readonly client: Redis;
  readonly #dsn: string | undefined;
  readonly #log: Logger;
  readonly #commandTimeoutMs: number;
  readonly #password: string | undefined;
  #subscriber: Redis | undefined;
  readonly #subscribed = new Set<string>();
  readonly #messageWaiters = new Map<string, Set<() => void>>();
  readonly #reconnectListeners: (() => void)[] = [];
  #lastError: string | undefined;
  #outage = false;
  #closed = false;

  constructor(location: RedisLocation, opts: RedisConnectionOptions) {
    this.description = location.description;
    this.#dsn = opts.dsn;
    this.#log = (opts.logger ?? silentLogger).child({
      component: 'redis-token-store',
      store: location.description,
    });
    this.#commandTimeoutMs = opts.commandTimeoutMs;
    this.#password = location.connection.password;
    this.client = new Redis({
      ...location.connection,
      enableOfflineQueue: false,
      // a command in flight when the socket drops fails instead of being replayed later
      maxRetriesPerRequest: 0,
      connectTimeout: opts.commandTimeoutMs,
      commandTimeout: opts.commandTimeoutMs,
      // keep trying forever, backing off to one attempt every 2 s
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
      // connected to a master that was demoted: reconnect (Sentinel then names the new master)
      reconnectOnError: (err) => isReadOnlyReply(err),
      ...opts.redisOptions,
    });
    this.client.on('error', (err: Error) => this.#noteError(err));
    this.client.on('close', () => {
      if (!this.#closed && !this.#outage && this.client.status !== 'end') {
        this.#outage = true;
        this.#log.warn({ err: this.#lastError }, 'lost the connection to Redis; reconnecting');
      }
    });
    this.client.on('ready', () => {
      if (this.#outage) {
        this.#outage = false;
        this.#log.info('reconnected to Redis');
      }
      this.#lastError = undefined;
      for (const listener of this.#reconnectListeners) listener();
    });
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** called on every (re)connection, the first included */
  onReady(listener: () => void): void {
    this.#reconnectListeners.push(listener);
  }

  /**
   * Runs one command once connected, waiting for a connection and re-sending it after a dropped
   * one, within the command timeout. Every command this store sends is idempotent (GET, SET,
   * compare-and-* scripts), so a re-send after a drop cannot double an effect. Any failure
   * becomes a TokenStoreUnavailableError saying what could not be done and why.
   */
  async command<T>(action: string, run: (client: Redis) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#commandTimeoutMs;
    for (;;) {
      await this.waitUntilReady(action, Math.max(0, deadline - Date.now()));
      try {
        return await run(this.client);
      } catch (err) {
        // a reply from Redis (WRONGTYPE, NOAUTH, a script error) will not change on a re-send;
        // READONLY will: a failed-over master turned replica, and we reconnect to the new one
        const final = err instanceof ReplyError && !isReadOnlyReply(err);
        if (final || this.#closed || Date.now() >= deadline) {
          throw this.unavailable(action, err);
        }
        this.#noteError(err as Error);
        // ioredis may still say "ready" until it has processed the socket's close: yield so it
        // can, instead of re-sending in a loop that starves the very event that reconnects
        await new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS).unref());
      }
    }
  }

  async waitUntilReady(action: string, timeoutMs: number): Promise<void> {
    if (this.#closed) throw this.unavailable(action, new Error('the store was closed'));
    if (this.ready) return;
    if (timeoutMs <= 0)
      throw this.unavailable(action, new Error(this.#lastError ?? 'not connected'));
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(this.unavailable(action, new Error(this.#lastError ?? 'not connected')));
      }, timeoutMs);
      timer.unref();
      this.client.once('ready', onReady);
    });
  }

  unavailable(action: string, err: unknown): TokenStoreUnavailableError {
    const raw = err instanceof Error ? err.message : String(err);
    return new TokenStoreUnavailableError({
      ...(this.#dsn === undefined ? {} : { dsn: this.#dsn }),
      store: this.description,
      action,
      why: this.#scrub(raw),
    });
  }

  /**
   * Resolves when `channel` gets a message or after `ms`, whichever is first. Pub/sub only makes
   * the wait short: a subscription lost to a reconnect just means waiting for the timeout.
   */
  async waitForMessage(channel: string, ms: number): Promise<void> {
    this.#subscribe(channel);
    await new Promise<void>((resolve) => {
      let waiters = this.#messageWaiters.get(channel);
      if (!waiters) this.#messageWaiters.set(channel, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      waiters.add(done);
    });
  }

  /** Subscribes early, so a release published between a failed attempt and the wait is not missed. */
  async subscribe(channel: string): Promise<void> {
    this.#subscribe(channel);
    const sub = this.#subscriber;
    if (sub && sub.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#commandTimeoutMs);
        timer.unref();
        sub.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #subscribe(channel: string): void {
    if (this.#closed || this.#subscribed.has(channel)) return;
    if (!this.#subscriber) {
      // the subscriber may queue: a late SUBSCRIBE is harmless, and autoResubscribe restores it
      this.#subscriber = this.client.duplicate({
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
      });
      this.#subscriber.on('error', () => {
        // the main connection reports the same outage
      });
      this.#subscriber.on('message', (ch: string) => {
        for (const wake of [...(this.#messageWaiters.get(ch) ?? [])]) wake();
      });
    }
    this.#subscribed.add(channel);
    this.#subscriber.subscribe(channel).catch(() => this.#subscribed.delete(channel));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiters of this.#messageWaiters.values()) for (const wake of [...waiters]) wake();
    await Promise.all(
      [this.client, this.#subscriber].map(async (c) => {
        if (!c) return;
        if (c.status === 'ready') await c.quit().catch(() => undefined);
        // also after QUIT: only disconnect() stops the Sentinel failover detector's own clients
        c.disconnect();
      }),
    );
  }

  #noteError(err: Error): void {
    const message = this.#scrub(err.message);
    if (message !== this.#lastError) this.#log.warn({ err: message }, 'Redis connection error');
    this.#lastError = message;
  }

  /** Redis never echoes a password, but a wrapped error might carry the URL: belt and braces. */
  #scrub(text: string): string {
    // a password of a letter or two would blank half the message and hide nothing
    const password = this.#password;
    return password && password.length >= 4 ? text.split(password).join('****') : text;
  }
}

function isReadOnlyReply(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('READONLY');
}
