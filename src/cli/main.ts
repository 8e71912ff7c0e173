#!/usr/bin/env node
// The one command-line entry point: `mapi-operator <command> [flags]`.
import { readFileSync } from 'node:fs';
import { commands, type Command } from './commands.ts';

export const EXIT_USAGE = 2;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
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
const invoked = process.argv[1] ? new URL(`file://${process.argv[1]}`).href : '';
if (import.meta.url === invoked || process.argv[1]?.endsWith('/mapi-operator')) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`mapi-operator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
