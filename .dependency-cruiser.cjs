/** The layers and the arrows allowed between them (ARCHITECTURE.md). `npm run lint` fails on any violation. */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment:
        'A cycle means two modules are one concept split in two, or a helper living in the wrong home.',
      severity: 'error',
      from: { path: '^(src|functions)/' },
      to: { circular: true },
    },
    {
      name: 'engine-is-pure',
      comment: 'The engine is plain TypeScript over plain data: it imports only its own files (style.md).',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { pathNot: '^src/engine/' },
    },
    {
      name: 'application-not-edges',
      comment: 'Use cases do not know HTTP, the Functions host, the simulator or the bench.',
      severity: 'error',
      from: { path: '^src/application/' },
      to: { path: '^(src/(api|host|simulator|bench|triggers)|functions)/' },
    },
    {
      name: 'use-cases-through-ports',
      comment:
        'Use cases reach storage through the ports (src/application/ports.ts); only the wiring (context.ts) builds the adapters on the tables and queues, and the health probe (health.ts) asks the account itself whether it answers.',
      severity: 'error',
      from: { path: '^src/application/', pathNot: '^src/application/(context|health)\\.ts$' },
      to: { path: '^src/storage/(tables|queues|connection)\\.ts$' },
    },
    {
      name: 'api-not-storage',
      comment: 'The HTTP edge parses, authorises and calls use cases; storage is behind the application.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/storage/' },
    },
    {
      name: 'functions-register-handlers',
      comment:
        'functions/*.ts only register handlers: they reach storage and the engine through the application.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^src/(storage|engine|host|simulator|bench)/' },
    },
    {
      name: 'contract-is-neutral',
      comment:
        'The Graph wire contract is read by the api, the simulator and the tests alike: of the project it imports only the GUID pattern.',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { path: '^(src|functions)/', pathNot: '^src/(contract/|engine/ids\\.ts$)' },
    },
    {
      name: 'product-not-tooling',
      comment: 'What deploys never imports the local host, the simulator, the bench or the packager.',
      severity: 'error',
      from: { path: '^src/(engine|application|storage|api|config|catalog|triggers|contract)/' },
      to: { path: '^src/(host|simulator|bench|package)/' },
    },
    {
      name: 'console-through-the-apis',
      comment:
        'The console (src/console) is a browser page that reads and writes only through the Graph-compatible and operator APIs: of the project it imports only the wire contract, for types.',
      severity: 'error',
      from: { path: '^src/console/' },
      to: { path: '^(src|functions)/', pathNot: '^src/(console|contract)/' },
    },
    {
      name: 'nothing-imports-the-console',
      comment: 'The console is bundled for the browser on its own; the service only serves its built files.',
      severity: 'error',
      from: { path: '^(src|functions)/', pathNot: '^src/console/' },
      to: { path: '^src/console/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.json'] },
  },
};
