/**
 * The environment variables tokenshim itself reads, by name. They share the TOKENSHIM_ prefix with
 * the error codes (lib/errors/tokenshim-error.ts) but are not codes: written here once, so neither is mistaken for
 * the other.
 */
export const ENV = Object.freeze({
  /** where tokenshim keeps its own files (the CA, a service's logs and token stores) */
  HOME: 'TOKENSHIM_HOME',
  /** the config to read when --config is not given */
  CONFIG: 'TOKENSHIM_CONFIG',
  /** the passphrase of serve's --tls-key or --tls-pfx (never a flag: the process list shows flags) */
  TLS_PASSPHRASE: 'TOKENSHIM_TLS_PASSPHRASE',
} as const);
