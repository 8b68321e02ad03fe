import { userInfo } from 'node:os';
import { loadConfig, platformStorageOf, storageOf } from '../config.ts';
import { type Db, openDb } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { openPlatform, type Platform } from '../platform.ts';

/** Runs `fn` on what `open` opens, then closes it, whether `fn` succeeded or threw. */
async function withOpened<R extends { close(): Promise<void> }, T>(open: Promise<R>, fn: (r: R) => Promise<T>) {
  const resource = await open;
  try {
    return await fn(resource);
  } finally {
    await resource.close();
  }
}

/**
 * An operator's action taken on the command line, for the operators' audit log: the console's
 * name for the same action (`fund.declare`), what it acted on, and what was asked (never a
 * password or a key's secret).
 */
export interface CliAction<T> {
  action: string;
  target: string | ((result: T) => string);
  detail?: Record<string, unknown> | ((result: T) => Record<string, unknown>);
  /** Whether the result is a change to log (a dry run, or a run that found nothing to change, is not); always when absent. */
  changed?: (result: T) => boolean;
}

/** Who the audit log names for the command line: the machine's user who ran it. */
export function cliOperator(): { operatorId: string; name: string } {
  return { operatorId: 'cli', name: `cli:${userInfo().username}` };
}

/**
 * Runs `fn` on the platform the configuration names (migrated first), then closes it. With
 * `audited`, an action that succeeds is written to the operators' audit log before the command
 * prints anything, as the console writes its own before it answers.
 */
export async function withPlatform<T>(fn: (platform: Platform) => Promise<T>, audited?: CliAction<T>): Promise<T> {
  return withOpened(openPlatform(platformStorageOf(loadConfig())), async (platform) => {
    const result = await fn(platform);
    if (audited && (audited.changed?.(result) ?? true)) {
      const detail = typeof audited.detail === 'function' ? audited.detail(result) : audited.detail;
      await platform.operators.record({
        operator: cliOperator(),
        action: audited.action,
        target: typeof audited.target === 'string' ? audited.target : audited.target(result),
        reason: null,
        detail: detail === undefined ? null : JSON.stringify(detail).slice(0, limits.operatorReasonLengthMax),
      });
    }
    return result;
  });
}

/** Runs `fn` on the bare database the configuration names (not migrated), then closes it. */
export async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  return withOpened(openDb(storageOf(loadConfig())), fn);
}
