#!/usr/bin/env node
import { EXIT, processIo } from './io.js';
import { main } from './main.js';

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`tokenshim: ${(e as Error).message}\n`);
    process.exitCode = EXIT.FAILURE;
  },
);
