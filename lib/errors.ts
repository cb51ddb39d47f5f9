/**
 * The error vocabulary, imported from here: the code table and the base class
 * (errors/tokenshim-error.ts), and the errors of each concern beside it.
 */
export * from './errors/tokenshim-error.js';
export * from './errors/token-errors.js';
export * from './errors/refusal-errors.js';
export * from './errors/upstream-errors.js';
export * from './errors/command-errors.js';
