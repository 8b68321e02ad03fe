import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { appsCommand } from './apps.ts';
import { backupCommands } from './backup.ts';
import { bankSimCommand } from './bank-sim.ts';
import { benchCommand } from './bench.ts';
import { blacklistCommand } from './blacklist.ts';
import { reconcileCommand, reportCommand } from './channels.ts';
import { creditCommand } from './credit.ts';
import { drillCommand } from './drill.ts';
import { operatorsCommand, settleCommand } from './escrow.ts';
import { addFundReport, fundCommand } from './fund.ts';
import { keysCommand } from './keys.ts';
import { ledgerCommand } from './ledger.ts';
import { merchantsCommand } from './merchants.ts';
import { migrateCommand } from './migrate.ts';
import { smsCommand } from './sms.ts';
import { startCommand } from './start.ts';
import { usersCommand } from './users.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('paybao')
  .description('Paybao, an open payment platform')
  .version(pkg.version)
  // Subcommands' options after their names are theirs (`backup base --out` is not `backup --out`).
  .enablePositionalOptions()
  .addCommand(startCommand())
  .addCommand(migrateCommand())
  .addCommand(ledgerCommand())
  .addCommand(usersCommand())
  .addCommand(appsCommand())
  .addCommand(merchantsCommand())
  .addCommand(keysCommand())
  .addCommand(smsCommand())
  .addCommand(bankSimCommand())
  .addCommand(benchCommand())
  .addCommand(drillCommand())
  .addCommand(settleCommand())
  .addCommand(operatorsCommand())
  .addCommand(fundCommand())
  .addCommand(creditCommand())
  .addCommand(blacklistCommand());
// The bank channels' commands (src/cli/channels.ts).
program.addCommand(reconcileCommand()).addCommand(addFundReport(reportCommand()));
for (const command of backupCommands()) program.addCommand(command);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // An unreachable database or a port in use ends the command with its message; the stack, which
  // tells a bug's whereabouts, comes with LOG_LEVEL=debug.
  // LOG_LEVEL read as it is: the error may be a malformed setting, which loadConfig would throw again.
  const debug = ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
  console.error('paybao:', debug || !(error instanceof Error) ? error : error.message);
  process.exit(1);
}
