/**
 * Runs a `paybao` command in this process, as `src/cli/main.ts` would, and answers what it
 * printed and its exit code: the command's own factory (`reportCommand()` …), a fresh one per
 * run, on the configuration in `process.env` (point PAYBAO_DATA_DIR, DATABASE_URL and
 * PAYBAO_DB_SCHEMA at the test's own data first). No child process: a run costs what the command
 * does, not a Node start and a TypeScript transpile.
 */
import { type Command, CommanderError } from 'commander';
import { vi } from 'vitest';

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Commander exits the process on a usage error unless told to throw; every subcommand too. */
function contained(command: Command, out: string[], err: string[]): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => out.push(text),
    writeErr: (text) => err.push(text),
  });
  for (const sub of command.commands) contained(sub, out, err);
}

export async function runCli(command: Command, args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  contained(command, out, err);
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    out.push(`${parts.join(' ')}\n`);
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
    err.push(`${parts.join(' ')}\n`);
  });
  process.exitCode = undefined;
  let exitCode = 0;
  try {
    await command.parseAsync(args, { from: 'user' });
    exitCode = Number(process.exitCode ?? 0);
  } catch (thrown) {
    if (thrown instanceof CommanderError) exitCode = thrown.exitCode;
    else {
      // What main.ts does with an error that ends a command.
      err.push(`paybao: ${thrown instanceof Error ? thrown.message : String(thrown)}\n`);
      exitCode = 1;
    }
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}
