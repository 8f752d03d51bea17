import { isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { ATTR } from '../attributes.js';
import type { AuditEvent } from '../catalog/envelope.js';
import type { HashChain, SiteLink } from '../integrity/chain.js';
import type { CheckpointEvent } from '../integrity/checkpoint.js';
import { linkHeader } from '../integrity/spooled-head.js';
import { encodeLogRecord } from '../record/encoder.js';
import { siteIdOf, toLogRecord, type AuditLogRecord, type ValidationIssue } from '../record/mapping.js';
import type { SiteHead } from '../integrity/chain.js';

/** Where encoded records go: the delivery's queue. Returns the record's ordinal, 0 when it was not kept (reported there). */
export type RecordSink = (bytes: Uint8Array, at: number, header: Uint8Array) => number;

/** A checkpoint as `integrity/checkpoint.ts` writes it. */
export interface SignedCheckpoint {
  readonly event: CheckpointEvent;
  readonly signature?: string;
}

/**
 * The step between a checked event and the queue: links it into the hash chain (and its site's,
 * for a site-scoped action with a site), maps it (`toLogRecord`, the one mapping), encodes it once
 * and queues the bytes with the chain's header. Checkpoints take the same way outside the chain.
 */
export class ChainStep {
  constructor(
    readonly chain: HashChain,
    private readonly sink: RecordSink,
    /** Told of a site chain's new link before the event is queued (its first: the site's resume marker goes first). */
    private readonly onSiteLink: (link: SiteLink, now: number) => void,
  ) {}

  /** Chains, maps, encodes and queues an event; returns its ordinal (0: not kept, reported). */
  event(event: AuditEvent, now: number, span: SpanContext | undefined, canonical: string, issues: ValidationIssue[] | undefined, siteScoped: boolean): number {
    const link = this.chain.next(canonical, siteScoped ? siteIdOf(event) : undefined);
    if (link.site) this.onSiteLink(link.site, now);
    const record = toLogRecord(event, { observedAt: now, link, issues });
    return this.sink(encodeLogRecord(record, span && isSpanContextValid(span) ? span : undefined), now, linkHeader(link));
  }

  /**
   * Maps, encodes and queues a checkpoint, outside the chain, with the stream it speaks of; a
   * site's (`site`) with the site head it states among its attributes, so that it passes the
   * site's filter.
   */
  checkpoint(checkpoint: SignedCheckpoint, now: number, site?: SiteHead): void {
    const record: AuditLogRecord = toLogRecord(checkpoint.event, { observedAt: now });
    const { attributes } = record;
    attributes[ATTR.streamId] = this.chain.head.streamId;
    if (site) {
      attributes[ATTR.siteSeq] = site.seq;
      attributes[ATTR.siteHash] = site.hash;
    }
    if (checkpoint.signature) attributes[ATTR.signature] = checkpoint.signature;
    this.sink(encodeLogRecord(record), now, linkHeader(undefined));
  }
}
