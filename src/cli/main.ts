#!/usr/bin/env node
// The one command-line entry point: `mapi-operator <command> [flags]`.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commands, type Command } from './commands.ts';

export const EXIT_USAGE = 2;

// Works from src/cli (run with type stripping) and from dist/src/cli (the built package).
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
    if (pkg.name === 'mapi-operator') return pkg.version;
  }
  return 'unknown';
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'mapi-operator: run MAPI over HTTP for Outlook on Kubernetes, declaratively.',
    '',
    'Usage: mapi-operator <command> [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    'Flags:',
    '  -h, --help     show help (also: mapi-operator <command> --help)',
    '  -v, --version  print the version',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    process.stdout.write(usage());
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (first === '-v' || first === '--version' || first === 'version') {
    process.stdout.write(`mapi-operator ${packageVersion()}\n`);
    return 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === first);
  if (!command) {
    process.stderr.write(`mapi-operator: unknown command "${first}"; run "mapi-operator --help" for the list\n`);
    return EXIT_USAGE;
  }
  return command.run(rest);
}

// Ran as a program (not imported by a test).
// (npm's bin links are symlinks: compare real paths.)
const invoked = process.argv[1] && existsSync(process.argv[1]) ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (import.meta.url === invoked) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`mapi-operator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
