import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { withPlatform } from './open-platform.ts';

/**
 * `paybao credit score --all`: today's nightly run now (the server runs it once a Beijing night),
 * with a progress bar; a crashed run goes on from its last chunk, `--restart` scores everyone
 * again. `paybao credit score <user_id>`: one user's score now (the online read), as JSON.
 */
export function creditCommand(): Command {
  const credit = new Command('credit').description('the credit score (350–950) and its nightly run');
  credit
    .command('score')
    .description("score every user now (--all), or print one user's score")
    .argument('[user_id]', 'the user to print')
    .option('--all', "run today's nightly scoring of every user (resumes a crashed run)")
    .option('--restart', 'with --all: score everyone again although today’s run finished')
    .action(async (userId: string | undefined, options: { all?: boolean; restart?: boolean }) => {
      if (Boolean(options.all) === (userId !== undefined)) {
        throw new Error('give either --all or one user_id');
      }
      if (userId !== undefined) {
        const s = await withPlatform((p) => p.credit.score(userId));
        console.log(
          JSON.stringify({
            user_id: s.userId,
            score: s.score ?? 'N/A',
            band: s.band,
            reasons: s.reasons,
            points: s.points,
          }),
        );
        return;
      }
      const started = performance.now();
      const report = await withPlatform(async (p) => {
        const bar = new SingleBar({ format: 'credit [{bar}] {value}/{total} users', stream: process.stderr });
        let shown = false;
        const result = await p.credit.run({
          restart: options.restart,
          onProgress: (done, total) => {
            if (!shown) {
              bar.start(total, 0);
              shown = true;
            }
            bar.update(done);
          },
        });
        if (shown) bar.stop();
        return result;
      });
      const seconds = (performance.now() - started) / 1000;
      if (report.alreadyDone) console.error(`today's run (${report.day}) finished already; --restart scores again`);
      console.log(JSON.stringify({ day: report.day, users: report.users, seconds: Number(seconds.toFixed(1)) }));
    });
  return credit;
}
