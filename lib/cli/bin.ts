#!/usr/bin/env node
import { closeRedisTokenStoresIfLoaded } from '../auth/stores/lazy-redis-store.js';
import { describeFailure } from './command-errors.js';
import { EXIT, processIo } from './io.js';
import { main } from './main.js';

main(process.argv.slice(2), processIo())
  .then(
    (code) => {
      process.exitCode = code;
    },
    // main reports every command's failure itself; this is for a bug in main
    (e: unknown) => {
      process.stderr.write(`tokenshim: ${describeFailure(e)}\n`);
      process.exitCode = EXIT.FAILURE;
    },
  )
  // Redis connections keep the event loop alive after a command (serve's shutdown included).
  .finally(() => closeRedisTokenStoresIfLoaded());
