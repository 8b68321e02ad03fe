import { Command } from 'commander';
import { withPlatform } from './open-platform.ts';

/** `paybao merchants ...`: the merchant portal's logins. */
export function merchantsCommand(): Command {
  const merchants = new Command('merchants').description("manage merchants' portal logins (/merchant)");
  merchants
    .command('create-owner')
    .description(
      'give a merchant its owner login for the portal (the owner adds the rest of the staff there); prints {"staff_id","merchant_id","role"}',
    )
    .requiredOption('--merchant-id <id>', "the merchant's user id (the seller_id `paybao apps create` printed)")
    .requiredOption('--phone <phone>', "the owner's mobile: the login, and where its SMS codes go")
    .requiredOption('--password <password>', 'the login password')
    .option('--name <name>', "the owner's name", 'Owner')
    .action(async (options: { merchantId: string; phone: string; password: string; name: string }) => {
      const staff = await withPlatform(
        (p) =>
          p.merchantPortal.createOwner(options.merchantId, {
            phone: options.phone,
            password: options.password,
            name: options.name,
          }),
        { action: 'merchant.owner.create', target: options.merchantId, detail: { name: options.name } },
      );
      console.log(JSON.stringify({ staff_id: staff.staffId, merchant_id: staff.merchantId, role: staff.role }));
    });
  return merchants;
}
