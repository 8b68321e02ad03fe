import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { withPlatform } from './open-platform.ts';

function integerIn(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** `paybao settle`: runs the settlement job now (the server runs it daily); prints one JSON line per settlement. */
export function settleCommand(): Command {
  return new Command('settle')
    .description("merge each seller's released escrow money into one payout to its wallet, with a statement")
    .option('--json', 'one JSON array of the settlements instead of one object per line')
    .action(async (options: { json?: boolean }) => {
      const made = await withPlatform(
        async (p) => {
          const bar = new SingleBar({ format: 'settle [{bar}] {value}/{total} sellers', stream: process.stderr });
          let started = false;
          const result = await p.settlements.run((done, total) => {
            if (!started) {
              bar.start(total, 0);
              started = true;
            }
            bar.update(done);
          });
          if (started) bar.stop();
          return result;
        },
        { action: 'settlement.run', target: 'settlements' },
      );
      const rows = made.map((s) => ({
        settlement_no: s.settlementNo,
        seller_id: s.sellerId,
        trade_count: s.tradeCount,
        gross_amount: s.grossAmount,
        recovery_amount: s.recoveryAmount,
        payout_amount: s.payoutAmount,
      }));
      if (options.json) console.log(JSON.stringify(rows));
      else for (const row of rows) console.log(JSON.stringify(row));
      if (made.length === 0) console.error('nothing to settle');
    });
}

/** `paybao operators create`: a console operator; prints its token once. */
export function operatorsCommand(): Command {
  const operators = new Command('operators').description('console operators (the operations console at /console)');
  operators
    .command('create')
    .description(
      'create an operator; prints {"operator_id","name","roles","token"} (the script token is shown only now)',
    )
    .requiredOption('--name <name>', "the operator's name (the browser login's, with --password)")
    .option(
      '--role <role...>',
      'dispute_reviewer, finance, risk or administrator (repeatable; administrator when none is given)',
    )
    .option('--password <password>', 'lets the operator log in to /console from a browser')
    .action(async (options: { name: string; role?: string[]; password?: string }) => {
      const o = await withPlatform(
        (p) => p.operators.create(options.name, { roles: options.role, password: options.password }),
        { action: 'operator.create', target: options.name, detail: { roles: options.role ?? ['administrator'] } },
      );
      console.log(JSON.stringify({ operator_id: o.operatorId, name: o.name, roles: o.roles, token: o.token }));
    });
  return operators;
}

/** `paybao apps contract`: an app's escrow terms. */
export function appsContractCommand(): Command {
  return new Command('contract')
    .description("set an app's escrow contract: escrow by default or not, the platform fee, the confirm period")
    .requiredOption('--app-id <id>', 'the app')
    .option('--escrow-default', "the app's trades are escrow trades unless a trade says escrow_trade=N", false)
    .option('--fee-bps <n>', 'platform fee in basis points of what is released (60 = 0.6%)', integerIn(0, 10_000), 60)
    .option(
      '--confirm-days <n>',
      'days after shipment before an unconfirmed trade confirms itself',
      integerIn(1, 90),
      10,
    )
    .action(async (options: { appId: string; escrowDefault: boolean; feeBps: number; confirmDays: number }) => {
      await withPlatform(
        (p) =>
          p.trades.saveContract(options.appId, {
            escrowDefault: options.escrowDefault,
            feeBps: options.feeBps,
            confirmPeriodMs: options.confirmDays * 86_400_000,
          }),
        { action: 'app.escrow_contract', target: options.appId, detail: options },
      );
      console.log(
        JSON.stringify({
          app_id: options.appId,
          escrow_default: options.escrowDefault,
          fee_bps: options.feeBps,
          confirm_days: options.confirmDays,
        }),
      );
    });
}
