/**
 * The layer rule for lib/ (npm run lint). Imports go one way:
 *
 *   config <- auth <- proxy <- app <- cli        (lib/index.ts, the public API, sits on top)
 *
 * and clock.ts, errors.ts, os-errors.ts, http/, log/, metrics/, net/, tls/ are leaves: any layer
 * may import them, and they import only each other. A leaf may import *types* from the layers it observes
 * (metrics and the logs read TokenEvent and ExchangeEvent): a type creates no runtime dependency,
 * and the cycle rule below still sees it.
 *
 * No cycles, type-only imports included (tsPreCompilationDeps): a type cycle is still two modules
 * that cannot be understood apart. eslint's import plugins skip type imports in their cycle check,
 * which is why this is dependency-cruiser.
 */
const LEAVES = '^lib/(clock\\.ts|errors\\.ts|errors/|os-errors\\.ts|(http|log|metrics|net|tls)/)';
const LAYERS = {
  config: '^lib/config/',
  auth: '^lib/auth/',
  proxy: '^lib/proxy/',
  app: '^lib/app/',
  cli: '^lib/cli/',
};

/** `layer` may not import any of `above`. */
function below(layer, above) {
  return {
    name: `${layer}-below-${above.join('-')}`,
    comment: `lib/${layer} is below ${above.map((l) => `lib/${l}`).join(', ')}: it may not import them`,
    severity: 'error',
    from: { path: LAYERS[layer] },
    to: { path: above.map((l) => LAYERS[l]) },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle, type-only imports included',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    below('config', ['auth', 'proxy', 'app', 'cli']),
    below('auth', ['proxy', 'app', 'cli']),
    below('proxy', ['app', 'cli']),
    below('app', ['cli']),
    {
      name: 'leaves-import-leaves',
      comment: 'a leaf imports only leaves; from the layers it observes, only types',
      severity: 'error',
      from: { path: LEAVES },
      to: {
        path: [LAYERS.config, LAYERS.auth, LAYERS.proxy],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'leaves-never-import-app-or-cli',
      severity: 'error',
      from: { path: LEAVES },
      to: { path: [LAYERS.app, LAYERS.cli] },
    },
    {
      name: 'public-api-is-imported-by-no-one',
      comment: 'lib/index.ts is for embedders; inside lib/, import the module itself',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
