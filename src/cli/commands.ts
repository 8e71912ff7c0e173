// The subcommands. Each module is loaded only when its command runs, so `--help` stays fast
// and `check` on a laptop never loads the controller runtime.
export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Command[] = [
  {
    name: 'run',
    summary: 'run the operator (controllers, leader election, metrics, health)',
    run: async (argv) => (await import('./run-command.ts')).runCommand(argv),
  },
  {
    name: 'check',
    summary: 'run the Outlook readiness checks (DNS, TLS, HTTP) for a MailDomain from anywhere',
    run: async (argv) => (await import('./check-command.ts')).checkCommand(argv),
  },
  {
    name: 'gatekeeper',
    summary: 'run the MAPI gatekeeper sidecar: MAPI off per domain and per mailbox, enforced',
    run: async (argv) => (await import('./gatekeeper-command.ts')).gatekeeperCommand(argv),
  },
];
