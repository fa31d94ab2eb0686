// The `envoy-ts` command: init, build, check, dev, setup.

import { Command, InvalidArgumentError, Option } from 'commander';

import { buildOnce, describeBuild, exportedFilters, type BuildSettings } from './build';
import { check } from './check';
import { dev } from './dev';
import { init } from './init';
import { packageVersion } from './package-paths';
import { setup } from './setup';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number (1-65535)');
  return n;
}

/** A base port, or 0: each worker environment's inspector takes a free port. */
function inspectPort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return n;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'];

function buildSettings(options: { entry: string; outfile: string }): BuildSettings {
  return { cwd: process.cwd(), entry: options.entry, outfile: options.outfile };
}

const entryOption = () => new Option('--entry <file>', 'the module exporting the filters').default('src/index.ts');
const outfileOption = () => new Option('--outfile <file>', 'the bundle envoy.yaml names').default('dist/filters.js');

const program = new Command('envoy-ts')
  .description('TypeScript filters inside Envoy: create, build, check and run a filter project')
  .version(packageVersion())
  .showHelpAfterError();

program.command('init')
  .description('create a filter project (a filter, its test, envoy.yaml) that passes its own npm test')
  .argument('[dir]', 'the project folder', '.')
  .option('--package-spec <spec>', 'how the project depends on envoy-ts (a version range, a tarball path, a git URL)')
  .option('--force', 'write into a folder that is not empty', false)
  .action((dir: string, options: { packageSpec?: string; force: boolean }) => {
    const files = init(dir, options);
    console.log(`created ${dir}: ${files.join(', ')}\nnext: cd ${dir} && npm install && npm test && npm run dev`);
  });

program.command('build')
  .description('bundle the filters for the embedded runtime (Node 18, CommonJS, source maps) and list them')
  .addOption(entryOption())
  .addOption(outfileOption())
  .action(async (options: { entry: string; outfile: string }) => {
    const settings = buildSettings(options);
    await buildOnce(settings);
    console.log(describeBuild(settings, exportedFilters(settings.outfile)));
  });

program.command('check')
  .description('validate an envoy.yaml, or one filter config (.json), as the proxy would load it, without serving')
  .argument('<file>', 'envoy.yaml, or the JSON of one envoy-ts filter_config')
  .option('--network', 'the .json file is a network (L4) chain', false)
  .action((file: string, options: { network: boolean }) => {
    process.exitCode = check(file, options);
  });

program.command('dev')
  .description('build, run the proxy on envoy.yaml, rebuild on save and serve the new code')
  .option('-c, --config <file>', 'the envoy.yaml to run', 'envoy.yaml')
  .addOption(entryOption())
  .addOption(outfileOption())
  .option('--upstream <port>', 'also run an echo upstream on 127.0.0.1:<port>', port)
  .option('--inspect [port]', "open the inspector on each worker's Node environment (ports from 9229; 0: any free ports)",
          inspectPort)
  .option('--concurrency <n>', 'proxy worker threads', positiveInteger, 2)
  .addOption(new Option('-l, --log-level <level>', 'proxy log level').choices(LOG_LEVELS).default('info'))
  .option('--no-watch', 'build and serve once, without watching the sources')
  .action(async (options: { config: string; entry: string; outfile: string; upstream?: number;
                            inspect?: number | true; concurrency: number; logLevel: string; watch: boolean }) => {
    const inspectBase = options.inspect === true ? 9229 : options.inspect;
    await dev({
      build: buildSettings(options),
      configPath: options.config,
      concurrency: options.concurrency,
      logLevel: options.logLevel,
      ...(options.upstream !== undefined ? { upstreamPort: options.upstream } : {}),
      ...(inspectBase !== undefined ? { inspectPort: inspectBase } : {}),
      watch: options.watch,
    });
  });

program.command('setup')
  .description("install what the prebuilt module and host need to run here (Debian 12: libraries, Debian's libnode 18)")
  .action(() => {
    process.exitCode = setup();
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`envoy-ts: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
