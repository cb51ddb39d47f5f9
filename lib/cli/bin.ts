#!/usr/bin/env node
import { closeRedisTokenStoresIfLoaded } from '../auth/stores/lazy-redis-store.js';
import { EXIT, processIo } from './io.js';
import { main } from './main.js';

main(process.argv.slice(2), processIo())
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`tokenshim: ${(e as Error).message}\n`);
      process.exitCode = EXIT.FAILURE;
    },
  )
  // Redis connections keep the event loop alive after a command (serve's shutdown included).
  .finally(() => closeRedisTokenStoresIfLoaded());
