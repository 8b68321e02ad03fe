import { Command, InvalidArgumentError } from 'commander';
import { parseAmount } from '../core/money.ts';
import { withPlatform } from './open-platform.ts';

function amount(value: string): bigint {
  const fen = parseAmount(value);
  if (fen === undefined) throw new InvalidArgumentError('expected an amount in yuan such as 100 or 88.88');
  return fen;
}

/** `paybao users ...`: wallet users, for tests and demos. */
export function usersCommand(): Command {
  const users = new Command('users').description('manage wallet users');
  users
    .command('create')
    .description('register a user; prints {"user_id","logon_id"}')
    .requiredOption('--phone <phone>', 'mainland mobile (13800138000) or E.164 (+14155550123)')
    .requiredOption('--password <password>', 'login password')
    .option('--balance <yuan>', 'demo money: a deposit from the demo reserve, as a bank top-up would bring', amount)
    .action(async (options: { phone: string; password: string; balance?: bigint }) => {
      const user = await withPlatform(async (p) => {
        const created = await p.members.createUser({ phone: options.phone, password: options.password });
        // Demo money enters as bank money does (from a reserve), so the reserve report stays
        // covered; see src/channels/demo-deposit.ts. One deposit per user: a repeat moves nothing.
        if (options.balance !== undefined && options.balance > 0n)
          await p.channels.demo.deposit(created.userId, options.balance, 'users create');
        return created;
      });
      console.log(JSON.stringify({ user_id: user.userId, logon_id: user.logonId }));
    });
  users
    .command('paycode')
    .description('print a fresh payment code (what a user shows at a till, for scene=bar_code)')
    .requiredOption('--phone <phone>', "the user's phone")
    .action(async (options: { phone: string }) => {
      const code = await withPlatform(async (p) => {
        const user = await p.members.findUserByPhone(options.phone);
        return p.members.newPaymentCode(user.userId);
      });
      console.log(code);
    });
  return users;
}
