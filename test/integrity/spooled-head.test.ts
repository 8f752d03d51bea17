// The chain's part of the spool, alone: the header it gives each record and the HEAD payload it
// gives each segment, and the head read back from them (the spool hands back bytes it never read).
// Fuzzed where the bytes come from disk: mutated and random headers and payloads never throw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GENESIS_HASH, HashChain } from '../../src/integrity/chain.js';
import { headOfPayload, headPayload, LINK_HEADER_BYTES, linkHeader, linkOfHeader, SpooledHead } from '../../src/integrity/spooled-head.js';
import { mutate, random } from '../helpers/random.js';

const hashOf = (n: number) => n.toString(16).padStart(64, '0');
const noSiteLink = Buffer.from('not a log record');

describe('the chain head the spool keeps', () => {
  it('a link header states seq and hash in 38 bytes; outside the chain, zeros: seq 0 and no hash', () => {
    const next = random(20260301);
    for (let i = 0; i < 1000; i++) {
      const link = { seq: 1 + Math.floor(next() * 2 ** 47), hash: hashOf(Math.floor(next() * 2 ** 50)) };
      const header = linkHeader(link);
      assert.equal(header.length, LINK_HEADER_BYTES);
      assert.deepEqual(linkOfHeader(header), link);
    }
    assert.deepEqual(linkOfHeader(linkHeader(undefined)), { seq: 0, hash: '' });
    assert.deepEqual(linkOfHeader(new Uint8Array(5)), { seq: 0, hash: '' }, 'a header of another size states nothing');
  });

  it('read back: the greatest head of the slot\'s stream across segments, its HEAD advanced by the records after it; another stream\'s and a headless segment\'s count for nothing', () => {
    const keeper = new SpooledHead('s');
    keeper.segment();
    keeper.head(headPayload({ streamId: 's', seq: 4, hash: hashOf(4), sites: [['a', 2, hashOf(102)]] }));
    keeper.record(linkHeader({ seq: 5, hash: hashOf(5) }), noSiteLink);
    keeper.record(linkHeader(undefined), noSiteLink); // a checkpoint: outside the chain
    keeper.segment();
    keeper.head(headPayload({ streamId: 'other', seq: 90, hash: hashOf(90) }));
    keeper.record(linkHeader({ seq: 91, hash: hashOf(91) }), noSiteLink);
    keeper.segment();
    // Its HEAD frame was damaged: the records name no stream.
    keeper.record(linkHeader({ seq: 70, hash: hashOf(70) }), noSiteLink);
    assert.deepEqual(keeper.found, { streamId: 's', seq: 5, hash: hashOf(5), sites: [['a', 2, hashOf(102)]] });
    assert.deepEqual(keeper.recovered, keeper.found);
  });

  it('a new segment states the head read back until the chain that continues the stream is followed, then that chain\'s head, its sites\' included', () => {
    const keeper = new SpooledHead('s');
    assert.deepEqual(keeper.recovered, { streamId: 's', seq: 0, hash: GENESIS_HASH }, 'nothing read back: the stream\'s start');
    keeper.segment();
    keeper.head(headPayload({ streamId: 's', seq: 3, hash: hashOf(3) }));
    assert.deepEqual(headOfPayload(keeper.current()), { streamId: 's', seq: 3, hash: hashOf(3) });
    const chain = new HashChain(keeper.recovered);
    keeper.follow(chain);
    chain.next('{"a":1}', 'site-1');
    assert.deepEqual(headOfPayload(keeper.current()), chain.persistentHead());
    assert.equal(headOfPayload(keeper.current())!.seq, 4);
  });

  it('offline (no stream given): any stream\'s greatest head', () => {
    const keeper = new SpooledHead();
    keeper.segment();
    keeper.head(headPayload({ streamId: 'x', seq: 8, hash: hashOf(8) }));
    assert.equal(keeper.found?.streamId, 'x');
    assert.equal(new SpooledHead().found, undefined);
  });

  it('headers and HEAD payloads from disk, mutated and random (5,000 each): never a throw, never a head that is not one', () => {
    const next = random(20260302);
    const valid = headPayload({ streamId: 's', seq: 12, hash: hashOf(12), sites: [['a', 1, hashOf(1)]] });
    for (let i = 0; i < 5000; i++) {
      const keeper = new SpooledHead('s');
      keeper.segment();
      const payload = next() < 0.5 ? mutate(next, valid) : Buffer.from(Array.from({ length: Math.floor(next() * 80) }, () => Math.floor(next() * 256)));
      const header = next() < 0.5 ? mutate(next, linkHeader({ seq: 13, hash: hashOf(13) })) : Buffer.from(Array.from({ length: Math.floor(next() * 50) }, () => Math.floor(next() * 256)));
      keeper.head(payload);
      keeper.record(header, mutate(next, noSiteLink));
      const head = keeper.found;
      if (head) assert.ok(head.streamId === 's' && Number.isSafeInteger(head.seq) && typeof head.hash === 'string', JSON.stringify(head));
      assert.doesNotThrow(() => keeper.current());
    }
  });
});
