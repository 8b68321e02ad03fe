import { Command, InvalidArgumentError } from 'commander';
import { limits } from '../core/limits.ts';
import { withPlatform } from './open-platform.ts';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0 || n > limits.smsListMax) {
    throw new InvalidArgumentError(`expected 1 to ${limits.smsListMax}`);
  }
  return n;
}

/** `paybao sms ...`: the development SMS outbox. */
export function smsCommand(): Command {
  const sms = new Command('sms').description('the development SMS outbox');
  sms
    .command('list')
    .description('print the messages "sent", newest first: time, phone, text')
    .option('--phone <phone>', 'only messages to this phone')
    .option('--limit <n>', 'at most this many messages', count, 20)
    .action(async (options: { phone?: string; limit: number }) => {
      const messages = await withPlatform((p) => p.members.smsOutbox(options));
      for (const m of messages) {
        const at = new Date(Number(m.createdAtNs / 1_000_000n)).toISOString();
        console.log(`${at}  ${m.phone}  ${m.text}`);
      }
    });
  return sms;
}
