// `npm run package`: builds the zip a zip deployment uploads (see README "Deploy" and src/package/build.ts).
import path from 'node:path';
import { Command } from 'commander';
import { buildPackage } from './build.js';

interface CliOptions {
  appDir: string;
  out: string;
  offline?: boolean;
  keepStaging?: boolean;
}

const program = new Command()
  .name('npm run package --')
  .description(
    'Builds the zip that a zip deployment uploads: the compiled functions (dist/,\n' +
      'without the local host, the simulator, the bench and this packager), host.json,\n' +
      'package.json and the production node_modules, installed afresh with\n' +
      'npm ci --omit=dev in a staging folder. .funcignore (the file\n' +
      'func azure functionapp publish reads) is the one list of what stays out.\n' +
      'Before writing, it checks that Core Tools reads .funcignore the same way, and\n' +
      'that every module the functions load and every package they require is inside.',
  )
  .option('--app-dir <dir>', 'function app folder', process.cwd())
  .option('-o, --out <file>', 'the zip to write (default: <app-dir>/dist-package/app.zip)')
  .option('--offline', "install from npm's cache only (default: prefer the cache, fetch what is missing)")
  .option('--keep-staging', 'keep the staging folder with the production node_modules, and say where it is')
  .addHelpText(
    'after',
    '\nDeploy the zip with:\n' +
      '  az functionapp deployment source config-zip -g <resource-group> -n <function-app> --src dist-package/app.zip',
  )
  .showHelpAfterError();

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  program.parse();
  const options = program.opts<CliOptions>();
  const appDir = path.resolve(options.appDir);
  const out = path.resolve(options.out ?? path.join(appDir, 'dist-package', 'app.zip'));
  const started = performance.now();
  const result = await buildPackage({
    appDir,
    outFile: out,
    offline: options.offline === true,
    keepStaging: options.keepStaging === true,
    log: (line) => console.log(line),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const relative = path.relative(process.cwd(), result.zipPath);
  const shown = relative === '' || relative.startsWith('..') ? result.zipPath : relative;
  const parts = [...result.topLevel].map(([name, count]) => (count === 1 ? name : `${name} ${count}`));
  console.log(`\nPackage: ${result.zipPath}`);
  console.log(
    `  ${megabytes(result.bytes)}, ${result.files} files (${parts.join(', ')}), built in ${seconds} s`,
  );
  console.log(`  sha256 ${result.sha256}`);
  console.log(
    `  ${result.entryPoints.length} function files load ${result.runtimeModules.length} compiled modules (all inside) ` +
      `and require ${result.requiredPackages.join(', ')}; npm ci --omit=dev installed ${result.installedPackages} packages`,
  );
  if (result.unusedModules.length > 0)
    console.log(
      `  note: ${result.unusedModules.length} compiled files are inside but no function loads them: ` +
        result.unusedModules.join(', '),
    );
  if (result.stagingDir) console.log(`  staging folder kept: ${result.stagingDir}`);
  console.log('\nDeploy it with:');
  console.log(
    `  az functionapp deployment source config-zip -g <resource-group> -n <function-app> --src ${shown}`,
  );
  console.log(
    'App settings it needs: FUNCTIONS_WORKER_RUNTIME=node, AzureWebJobsStorage, ADMIN_API_KEY, GRAPH_TOKEN_SIGNING_KEY',
  );
}

main().catch((error: unknown) => {
  console.error(`package: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
