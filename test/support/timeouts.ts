/**
 * The timeout of a test that runs real processes (the `paybao` binary, a server) or PGlite on
 * disk. It guards against a hang, not against a slow machine: a clean clone on a busy two-core
 * machine takes many times longer than a quiet one, and a test must not fail for that (issue 11).
 */
export const processTestTimeoutMs = 15 * 60_000;
