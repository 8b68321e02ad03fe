import { Command } from 'commander';
import type { PlatformKey } from '../members/index.ts';
import { withPlatform } from './open-platform.ts';

const keyJson = (k: PlatformKey) => ({
  status: k.status,
  created_at: new Date(Number(k.createdAtNs / 1_000_000n)).toISOString(),
  retired_at: k.retiredAtNs === undefined ? null : new Date(Number(k.retiredAtNs / 1_000_000n)).toISOString(),
  alipay_public_key: k.publicKeyPem,
});

/**
 * `paybao keys ...`: the platform's RSA key pairs, which sign every gateway response and
 * notification (merchants verify them with `alipay_public_key`).
 */
export function keysCommand(): Command {
  const keys = new Command('keys').description("the platform's signing keys");
  keys
    .command('list')
    .description('print the active key and the retired ones, newest first, one JSON object per line')
    .option('--json', 'one JSON array instead of one object per line')
    .action(async (options: { json?: boolean }) => {
      const all = await withPlatform((p) => p.members.platformKeys());
      const rows = [all.active, ...all.retired].map(keyJson);
      if (options.json) console.log(JSON.stringify(rows));
      else for (const k of rows) console.log(JSON.stringify(k));
    });
  keys
    .command('rotate')
    .description(
      'retire the active key and make a fresh one active; servers sign with it from their next start. ' +
        'Prints the new key: merchants must configure its alipay_public_key to verify what Paybao signs',
    )
    .action(async () => {
      const rotated = await withPlatform((p) => p.members.rotatePlatformKeys(), {
        action: 'keys.rotate',
        target: (r) => String(r.active.keyId),
      });
      console.log(JSON.stringify(keyJson(rotated.active)));
      console.error(
        'paybao: servers sign responses and notifications with the new key once restarted; ' +
          'every merchant must then set its alipay_public_key to the one above',
      );
    });
  return keys;
}
