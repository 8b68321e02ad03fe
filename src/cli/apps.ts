import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { appsContractCommand } from './escrow.ts';
import { withPlatform } from './open-platform.ts';

/** `paybao apps ...`: merchant apps of the open gateway. */
export function appsCommand(): Command {
  const apps = new Command('apps').description('manage merchant apps');
  apps
    .command('create')
    .description('register an app for a new merchant; prints {"app_id","seller_id","alipay_public_key"}')
    .requiredOption('--name <name>', 'app (and merchant) name')
    .requiredOption('--merchant-public-key-file <file>', "the merchant's RSA public key: PEM or bare base64")
    .option('--notify-url <url>', 'where asynchronous notifications are posted')
    .option('--auth-redirect-url <url>', 'the authorisation callback address: users authorising the app return there')
    .action(
      async (options: {
        name: string;
        merchantPublicKeyFile: string;
        notifyUrl?: string;
        authRedirectUrl?: string;
      }) => {
        const merchantPublicKeyPem = readFileSync(options.merchantPublicKeyFile, 'utf8');
        const app = await withPlatform(
          (p) =>
            p.members.createApp({
              name: options.name,
              merchantPublicKeyPem,
              notifyUrl: options.notifyUrl,
              authRedirectUrl: options.authRedirectUrl,
            }),
          {
            action: 'app.create',
            target: (created) => created.appId,
            detail: { name: options.name, notifyUrl: options.notifyUrl, authRedirectUrl: options.authRedirectUrl },
          },
        );
        console.log(
          JSON.stringify({ app_id: app.appId, seller_id: app.sellerId, alipay_public_key: app.alipayPublicKey }),
        );
      },
    );
  apps
    .command('auth-redirect')
    .description("set an app's authorisation callback address (user authorisation sends users back only to its origin)")
    .requiredOption('--app-id <id>', 'the app')
    .option('--url <url>', 'the address; leave it out to remove it')
    .action(async (options: { appId: string; url?: string }) => {
      const app = await withPlatform((p) => p.members.setAuthRedirectUrl(options.appId, options.url), {
        action: 'app.auth_redirect',
        target: options.appId,
        detail: { url: options.url ?? null },
      });
      console.log(JSON.stringify({ app_id: app.appId, auth_redirect_url: app.authRedirectUrl ?? null }));
    });
  apps.addCommand(appsContractCommand());
  return apps;
}
