// Per-test AWS accounts on the shared moto server of the integration run (see global-setup.ts).
// Every test calls newAccount() and works only there: the patched moto keys all state by the 12-digit
// access key id, so test files run in parallel against one server and never reset it.
import { threadId } from 'node:worker_threads';
import { inject } from 'vitest';
import { accountFor } from './seed.ts';
import type { Account } from './seed.ts';

export type { Account } from './seed.ts';

// Account ids: '9' + pid (4 digits) + a 7-digit sequence that starts at a random point in each module
// instance. Ids from one module instance never repeat (1e7 of them); two instances (vitest workers:
// processes or threads, or re-evaluations of this module) collide only if their pids agree mod 1e4 and
// their random windows overlap, which needs millions of accounts. threadId is mixed into the pid
// digits because worker threads share the process id.
const PREFIX = `9${String((process.pid * 31 + threadId) % 10_000).padStart(4, '0')}`;
let sequence = Math.floor(Math.random() * 10_000_000);

/** A fresh 12-digit account id, unique across the workers of a run. */
export function newAccountId(): string {
  sequence = (sequence + 1) % 10_000_000;
  return `${PREFIX}${String(sequence).padStart(7, '0')}`;
}

/** The moto endpoint of this run (provided by test/harness/global-setup.ts). */
export function motoEndpoint(): string {
  return inject('motoEndpoint');
}

/**
 * A new, empty account in `region` (moto gives it what AWS gives a new account: a default VPC with one
 * default subnet per AZ, and nothing else) with SDK clients and the environment for a child process.
 */
export function newAccount(region = 'us-east-1'): Account {
  return accountFor(motoEndpoint(), newAccountId(), region);
}

/** The same account in another Region (same id, same credentials). */
export function inRegion(acct: Account, region: string): Account {
  return accountFor(acct.endpoint, acct.accountId, region);
}
