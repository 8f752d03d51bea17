// The chain-and-queue step, alone: an event is linked into the chain (and its site's), mapped by
// toLogRecord, encoded once and handed to the queue with the chain's header; a checkpoint goes the
// same way outside the chain. The queue here is a list.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTR } from '../../src/attributes.js';
import type { AuditEvent } from '../../src/catalog/envelope.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { GENESIS_HASH, HashChain, type SiteLink } from '../../src/integrity/chain.js';
import { checkpointEvent } from '../../src/integrity/checkpoint.js';
import { linkOfHeader } from '../../src/integrity/spooled-head.js';
import { ChainStep } from '../../src/logger/chaining.js';
import { decodeLogRecord } from '../../src/record/decoder.js';
import { toLogRecord } from '../../src/record/mapping.js';

const NOW = 1_772_000_000_000;
const event = (n: number, site?: string): AuditEvent => ({
  id: `e${n}`,
  action: 'document.create',
  actor: { type: 'system' },
  context: site ? { site: { id: site } } : {},
  timestamp: new Date(NOW - 5).toISOString(),
  details: { n },
});

function setUp() {
  const queued: { bytes: Uint8Array; at: number; header: Uint8Array }[] = [];
  const order: string[] = [];
  const siteLinks: SiteLink[] = [];
  const chain = new HashChain({ streamId: 'stream-1', seq: 0, hash: GENESIS_HASH });
  const step = new ChainStep(
    chain,
    (bytes, at, header) => {
      queued.push({ bytes, at, header });
      order.push('record');
      return queued.length;
    },
    (link) => {
      siteLinks.push(link);
      order.push(`site ${link.site} ${link.seq}`);
    },
  );
  return { queued, order, siteLinks, chain, step };
}

describe('chain-and-queue step', () => {
  it('links each event into the chain, queues toLogRecord\'s record encoded once with the chain\'s header, and returns the queue\'s ordinal', () => {
    const { queued, step } = setUp();
    const ordinals = [1, 2, 3].map((n) => step.event(event(n), NOW, undefined, canonicalJson(event(n)), undefined, false));
    assert.deepEqual(ordinals, [1, 2, 3]);
    let prevHash = GENESIS_HASH;
    for (const [i, { bytes, at, header }] of queued.entries()) {
      const decoded = decodeLogRecord(bytes);
      const link = linkOfHeader(header);
      assert.equal(at, NOW);
      assert.equal(link.seq, i + 1);
      assert.equal(decoded.attributes[ATTR.seq], i + 1);
      assert.equal(decoded.attributes[ATTR.hash], link.hash, 'the header states the record\'s own link');
      assert.equal(decoded.attributes[ATTR.prevHash], prevHash);
      prevHash = link.hash;
      const mapped = toLogRecord(event(i + 1), { observedAt: NOW, link: { streamId: 'stream-1', seq: i + 1, prevHash: decoded.attributes[ATTR.prevHash] as string, hash: link.hash } });
      assert.deepEqual(decoded.attributes, mapped.attributes, 'the one mapping');
      assert.deepEqual([decoded.eventName, decoded.severityNumber, decoded.timeUnixNano], [mapped.eventName, mapped.severityNumber, BigInt(mapped.timestamp) * 1_000_000n]);
    }
  });

  it('an invalid event is flagged, with its issues, and goes out as WARN', () => {
    const { queued, step } = setUp();
    step.event(event(1), NOW, undefined, canonicalJson(event(1)), [{ path: 'details', message: 'bad' }], false);
    const decoded = decodeLogRecord(queued[0]!.bytes);
    assert.equal(decoded.attributes[ATTR.invalid], true);
    assert.equal(decoded.severityText, 'WARN');
  });

  it('a site-scoped event with a site: linked into its site\'s chain too, told before its record is queued; not site-scoped: the stream\'s only', () => {
    const { order, siteLinks, step } = setUp();
    step.event(event(1, 'a'), NOW, undefined, canonicalJson(event(1, 'a')), undefined, true);
    step.event(event(2, 'a'), NOW, undefined, canonicalJson(event(2, 'a')), undefined, true);
    step.event(event(3, 'b'), NOW, undefined, canonicalJson(event(3, 'b')), undefined, false);
    assert.deepEqual(order, ['site a 1', 'record', 'site a 2', 'record', 'record']);
    assert.equal(siteLinks[1]!.prevHash, siteLinks[0]!.hash);
  });

  it('the active span\'s ids when it is valid; none for an invalid span', () => {
    const { queued, step } = setUp();
    const span = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    step.event(event(1), NOW, span, canonicalJson(event(1)), undefined, false);
    step.event(event(2), NOW, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }, canonicalJson(event(2)), undefined, false);
    const [linked, unlinked] = queued.map(({ bytes }) => decodeLogRecord(bytes));
    assert.deepEqual([linked!.traceId, linked!.spanId, linked!.flags], [span.traceId, span.spanId, 1]);
    assert.equal(unlinked!.traceId, undefined);
  });

  it('a checkpoint: outside the chain (a zero header, the chain unchanged), naming the stream, a site\'s with the head it states, signed when signed', () => {
    const { queued, chain, step } = setUp();
    step.event(event(1), NOW, undefined, canonicalJson(event(1)), undefined, false);
    const checkpoint = checkpointEvent(chain.head, 60_000, false, NOW);
    step.checkpoint({ ...checkpoint, signature: 'c2ln' }, NOW, { seq: 4, hash: 'f'.repeat(64) });
    assert.equal(chain.head.seq, 1);
    const { bytes, header } = queued[1]!;
    assert.deepEqual(linkOfHeader(header), { seq: 0, hash: '' });
    const decoded = decodeLogRecord(bytes);
    assert.equal(decoded.attributes[ATTR.streamId], 'stream-1');
    assert.equal(decoded.attributes[ATTR.seq], undefined);
    assert.deepEqual([decoded.attributes[ATTR.siteSeq], decoded.attributes[ATTR.siteHash], decoded.attributes[ATTR.signature]], [4, 'f'.repeat(64), 'c2ln']);
    assert.equal((decoded.body as { action: string }).action, 'audit.checkpoint');
  });
});
