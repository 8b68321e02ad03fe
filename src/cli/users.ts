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
    .option('--balance <yuan>', 'fund the wallet from the platform funding account', amount)
    .action(async (options: { phone: string; password: string; balance?: bigint }) => {
      const user = await withPlatform((p) =>
        p.members.createUser({ phone: options.phone, password: options.password, openingBalance: options.balance }),
      );
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
