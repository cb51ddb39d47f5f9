/**
 * tokenshim as a library: what `import ... from 'tokenshim'` offers (package.json "exports").
 * Everything else under dist/lib is internal and may change without notice.
 *
 *   const { dsns, problems, path } = await loadConfig({ configPath: 'odbc.ini' });
 *   if (hasErrors(problems)) throw new Error(problems.map(formatProblem).join('\n'));
 *   const server = await startTokenshim({ dsns, configPath: path, logger: createLogger() });
 *   // clients call http://127.0.0.1:8790/<DSN>/...
 *   await server.close();
 */
export { startTokenshim, type StartTokenshimOptions } from './app/start-tokenshim.js';
export { loadConfig, type LoadOptions, type LoadedConfig } from './config/load.js';
export { formatProblem, hasErrors, type ConfigProblem } from './config/problems.js';
export type { DsnConfig } from './config/dsn.js';
export { TokenshimError, type ProblemDetails } from './errors.js';
export { createLogger, type Logger, type LoggerOptions } from './log/logger.js';
export type { ReloadResult } from './proxy/bindings.js';
export type { TokenshimServer } from './proxy/server.js';
