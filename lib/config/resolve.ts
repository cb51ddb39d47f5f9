import { lookupOption, suggestOption } from './catalogue.js';
import { lookupDataDirectOption } from './datadirect-options.js';
import type { DsnConfig, RawDsn, RawEntry, ValueOrigin } from './dsn.js';
import type { DsnModel } from './dsn-model.js';
import { OptionReader } from './option-reader.js';
import { resolveCredentials } from './options/credentials.js';
import { resolveLocalAccess } from './options/local-access.js';
import { resolveMethod } from './options/method.js';
import { resolvePlacement } from './options/placement.js';
import { resolveResponses } from './options/responses.js';
import { resolveTokenEndpoint } from './options/token-endpoint.js';
import { resolveTokenLifecycle } from './options/token-lifecycle.js';
import { resolveTransport } from './options/transport.js';
import { resolveUpstream } from './options/upstream.js';
import { resolveUpstreamHeaders } from './options/upstream-headers.js';
import { UNSAFE_VALUE_CHARS, type ConfigProblem } from './problems.js';
import { CROSS_FIELD_RULES } from './rules.js';

export type { RawEntry } from './dsn.js';

/**
 * Folds raw entries into a RawDsn keyed by canonical option name. DataDirect's own options that
 * tokenshim has no use for get a note saying what they are for; other unknown keys warn (with a
 * suggestion); a key given twice, or under its long and short names, is refused: DataDirect warns
 * that "the connection may fail", and silently picking one hides a typo.
 */
export function collectDsn(
  name: string,
  source: string,
  line: number | undefined,
  entries: readonly RawEntry[],
  problems: ConfigProblem[],
): RawDsn {
  const values = new Map<string, { value: string; origin: ValueOrigin }>();
  for (const e of entries) {
    const def = lookupOption(e.key);
    const at = { source: e.origin.source, line: e.origin.line, dsn: name, key: e.key };
    if (!def) {
      const datadirect = lookupDataDirectOption(e.key);
      if (datadirect) {
        problems.push({
          severity: 'note',
          ...at,
          message: `DataDirect option, not used by tokenshim: ${datadirect.purpose}`,
          fix: 'nothing to do; it stays in place for the DataDirect driver',
        });
        continue;
      }
      const suggestion = suggestOption(e.key);
      problems.push({
        severity: 'warning',
        ...at,
        message: `unknown option "${e.key}" is ignored`,
        fix: suggestion ? `did you mean ${suggestion}?` : 'see the option table in the README',
      });
      continue;
    }
    const previous = values.get(def.name);
    if (previous) {
      const prevAt = previous.origin.line === undefined ? '' : ` (line ${previous.origin.line})`;
      problems.push({
        severity: 'error',
        ...at,
        message: `${def.name} is set twice: as ${previous.origin.key}${prevAt} and as ${e.key}`,
        fix: 'keep one of them',
      });
      continue;
    }
    values.set(def.name, { value: e.value, origin: e.origin });
  }
  return { name, source, ...(line === undefined ? {} : { line }), values };
}

/**
 * Validates a RawDsn into a DsnConfig, pushing every problem found: each option is read by the
 * family it belongs to (lib/config/options/), then the cross-field rules run on the result.
 * `model` is the Model file RestConfigFile names, already read (lib/config/dsn-model.ts).
 * Returns undefined when an error makes the DSN unusable (the problems say why).
 */
export function resolveDsn(
  raw: RawDsn,
  problems: ConfigProblem[],
  model?: DsnModel,
): DsnConfig | undefined {
  const options = new OptionReader(raw, problems);
  if (raw.values.size === 0) {
    options.error(
      undefined,
      'this DSN has no options',
      'add AuthenticationMethod, HostName and the options its method needs, or remove the section',
    );
    return undefined;
  }
  refuseControlCharacters(raw, options);
  const method = resolveMethod(options);
  if (!method) return undefined;
  const credentials = resolveCredentials(options);
  const placement = resolvePlacement(options);
  const dsn: DsnConfig = {
    name: raw.name,
    source: raw.source,
    ...method,
    ...resolveTokenEndpoint(options),
    ...credentials,
    ...resolveUpstream(options, model),
    ...placement,
    ...resolveUpstreamHeaders(options, { ...method, ...placement, ...credentials }, model),
    ...resolveTransport(options),
    ...resolveTokenLifecycle(options),
    ...resolveLocalAccess(options),
    ...resolveResponses(options),
    origins: options.origins,
  };
  for (const rule of CROSS_FIELD_RULES) rule(dsn, options);
  return options.errors > 0 ? undefined : dsn;
}

/** A line break or NUL in any value would end up inside an HTTP header or request line. */
function refuseControlCharacters(raw: RawDsn, options: OptionReader): void {
  for (const [name, { value }] of raw.values) {
    if (!UNSAFE_VALUE_CHARS.test(value)) continue;
    options.error(
      lookupOption(name),
      'the value contains a line break or NUL character, which would end up in an HTTP header',
      'remove the control character',
    );
  }
}
