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
    .option('--json', 'a JSON array of {"at","phone","text"}')
    .action(async (options: { phone?: string; limit: number; json?: boolean }) => {
      const messages = await withPlatform((p) => p.members.smsOutbox({ phone: options.phone, limit: options.limit }));
      const rows = messages.map((m) => ({
        at: new Date(Number(m.createdAtNs / 1_000_000n)).toISOString(),
        phone: m.phone,
        text: m.text,
      }));
      if (options.json) console.log(JSON.stringify(rows));
      else for (const m of rows) console.log(`${m.at}  ${m.phone}  ${m.text}`);
      // On stderr, so that stdout stays the list (empty) for scripts, while a person is told why.
      if (rows.length === 0)
        console.error(`paybao: the SMS outbox is empty${options.phone === undefined ? '' : ` for ${options.phone}`}`);
    });
  return sms;
}
