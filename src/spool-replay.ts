// Sending what a spool holds for processes that are gone: each slot no running process holds is
// opened by a logger of its own (the slot's stream, chain head and backlog are the slot's), which
// logs nothing and delivers the backlog before it closes; like any logger on a spool, it takes over
// the backlog of the other free slots too. What `otel-audit spool --replay` runs, and what an
// application can run to empty the spool of an instance that will not come back.
import type { Catalog } from './catalog/define.js';
import { nodeFileSystem } from './delivery/file-system.js';
import { inspectSlot } from './delivery/spool/inspect.js';
import { slotsOf } from './delivery/spool/slots.js';
import type { AuditError } from './errors.js';
import { createAuditLoggerWith } from './logger.js';
import { AuditOptionsError, DEFAULTS, type AuditLoggerOptions } from './options.js';

/** What the replay of one slot did. */
export interface SlotReplay {
  /** The slot's directory. */
  readonly slot: string;
  /** Records pending when the slot was opened: its own, and those of the other free slots it took over. */
  readonly replayed: number;
  /** Records the collector acknowledged. */
  readonly acknowledged: number;
  /** Records the collector refused for good, now in the slot's dead-letter file. */
  readonly deadLettered: number;
  /** Records not delivered by the deadline: they stay in the slot for the next replay. */
  readonly keptInSpool: number;
  /** Records neither acknowledged nor dead-lettered (0: the slot is empty). */
  readonly undelivered: number;
  /** What went wrong meanwhile (also given to `onError`, when the options have one). */
  readonly problems: readonly AuditError[];
}

/**
 * Delivers the backlog of every slot of `options.spoolDir` that no running process holds: opens
 * each in turn that still has records pending (the first also takes over the other free slots'
 * backlogs, as a logger does), within `timeoutMillis` each, and yields what it did. Safe while the
 * application runs: the slots it holds are skipped. `options` are the logger's (the catalog is not
 * used: nothing is logged, no checkpoint is written).
 */
export async function* replaySpool<C extends Catalog>(options: AuditLoggerOptions<C>, { timeoutMillis = DEFAULTS.shutdownTimeoutMillis }: { readonly timeoutMillis?: number } = {}): AsyncGenerator<SlotReplay> {
  const { spoolDir } = options;
  if (spoolDir === undefined) throw new AuditOptionsError('spoolDir', 'is required: the spool to replay', spoolDir);
  for (const slot of slotsOf(nodeFileSystem, spoolDir)) {
    const inspection = inspectSlot(nodeFileSystem, slot);
    if (inspection.inUse || inspection.pending === 0) continue;
    const problems: AuditError[] = [];
    const audit = createAuditLoggerWith(
      {
        ...options,
        checkpoints: false,
        onError: (error) => {
          problems.push(error);
          options.onError?.(error);
        },
      },
      { fs: nodeFileSystem, now: Date.now, slot },
    );
    const result = await audit.shutdown({ timeoutMillis });
    const stats = audit.stats();
    yield { slot, replayed: stats.replayed, acknowledged: stats.exported, deadLettered: stats.deadLettered, keptInSpool: result.keptInSpool, undelivered: result.undelivered, problems };
  }
}
