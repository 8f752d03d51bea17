// The decoders of outside bytes the site chains added, fuzzed with seeded random and mutated
// inputs: the site link read from a spooled record's bytes (siteLinkOf), the site heads of a HEAD
// frame's payload (siteHeadsOf, HashChain, SegmentHead), and the verifier checking site chains.
// Properties: no throw escapes, no input takes long, and what comes out is well formed (or, for
// an untouched input, exactly what went in). The counts are printed.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ATTR } from '../../src/attributes.js';
import { encodeLogRecord } from '../../src/record/encoder.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { GENESIS_HASH, HashChain, linkHash, siteHeadsOf, type ChainHead } from '../../src/integrity/chain.js';
import { SegmentHead, siteLinkOf } from '../../src/integrity/spooled-head.js';
import type { TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { mutate, pieces, random, value } from '../helpers/random.js';

const SLOWEST_MILLIS = 1000;
const HASH = /^[0-9a-f]{64}$/;
const counts: Record<string, number> = {};
after(() => console.log(`fuzzing the site chains, inputs tried: ${JSON.stringify(counts)}`));

/** Runs `count` inputs, each timed; returns the slowest. */
function campaign(name: string, count: number, one: (i: number) => void): void {
  let slowest = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    one(i);
    slowest = Math.max(slowest, performance.now() - started);
  }
  counts[name] = count;
  assert.ok(slowest < SLOWEST_MILLIS, `${name}: an input took ${slowest.toFixed(1)} ms`);
}

const hexOf = (next: () => number) => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(next() * 16)]).join('');
const siteOf = (next: () => number) => pieces[Math.floor(next() * pieces.length)]! + String(Math.floor(next() * 100));
const wellFormedLink = (link: ReturnType<typeof siteLinkOf>) => link === undefined || (link.site !== '' && Number.isSafeInteger(link.seq) && link.seq >= 1 && HASH.test(link.hash));

describe('site chains, fuzzed', () => {
  it('siteLinkOf: encoded records (untouched: exactly their link), mutated and random bytes: never throws, never a malformed link', () => {
    const next = random(20260224);
    campaign('siteLinkOf', 20_000, (i) => {
      const link = { site: siteOf(next), seq: 1 + Math.floor(next() * 2 ** 40), hash: hexOf(next) };
      const attributes: Record<string, string | number | boolean> = { [ATTR.seq]: i + 1, [ATTR.recordUid]: `e${i}`, 'another.attribute': String(value(next, 2)) };
      const linked = next() < 0.8;
      if (linked) Object.assign(attributes, { [ATTR.siteId]: link.site, [ATTR.siteSeq]: link.seq, [ATTR.siteHash]: link.hash, [ATTR.sitePrevHash]: hexOf(next) });
      const bytes = encodeLogRecord({ timestamp: 1_700_000_000_000, observedTimestamp: 1_700_000_000_001, severityNumber: 9, severityText: 'INFO', eventName: 'document.create', body: { id: `e${i}`, details: value(next, 0) }, attributes });
      const kind = next();
      if (kind < 0.2) {
        assert.deepEqual(siteLinkOf(bytes), linked ? link : undefined, 'an untouched record gives exactly its link');
        return;
      }
      const input = kind < 0.3 ? Buffer.from(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256))) : mutate(next, bytes);
      // A view inside a larger buffer, as the spool hands records out.
      const framed = Buffer.concat([Buffer.from([1, 2, 3]), input, Buffer.from([4])]).subarray(3, 3 + input.length);
      const found = siteLinkOf(framed);
      assert.ok(wellFormedLink(found), JSON.stringify(found));
    });
  });

  it('head payloads read back from disk: siteHeadsOf, HashChain and SegmentHead take any JSON without throwing, keeping only well-formed site heads', () => {
    const next = random(20260225);
    campaign('head payloads', 10_000, (i) => {
      const valid: ChainHead = { streamId: `s${i}`, seq: 5, hash: hexOf(next), sites: Array.from({ length: Math.floor(next() * 5) }, () => [siteOf(next), 1 + Math.floor(next() * 1000), hexOf(next)] as const) };
      const kind = next();
      let payload: unknown;
      if (kind < 0.4) payload = { ...valid, sites: value(next, 0) };
      else if (kind < 0.7) payload = { ...valid, sites: (valid.sites ?? []).map((entry) => (next() < 0.5 ? entry : value(next, 2))) };
      else {
        // The JSON text mutated, as a HEAD frame written by hand or by another version could be.
        try {
          payload = JSON.parse(mutate(next, Buffer.from(JSON.stringify(valid))).toString('utf8')) as unknown;
        } catch {
          payload = { ...valid, sites: null };
        }
      }
      const head = payload as ChainHead;
      const sites = siteHeadsOf(head);
      for (const [site, siteHead] of sites) assert.ok(site !== '' && Number.isSafeInteger(siteHead.seq) && siteHead.seq >= 1 && HASH.test(siteHead.hash), JSON.stringify([site, siteHead]));
      if (typeof head?.streamId === 'string' && Number.isSafeInteger(head.seq) && typeof head.hash === 'string') {
        const chain = new HashChain(head);
        assert.equal(chain.sites.size, sites.size);
        const scan = new SegmentHead();
        scan.headFrame(head);
        scan.record(head.seq + 1, hexOf(next), mutate(next, Buffer.from('garbage')));
        const recovered = scan.head!;
        assert.equal(recovered.seq, head.seq + 1);
        assert.equal(siteHeadsOf(recovered).size, sites.size, 'the records after a HEAD frame keep its site heads');
      }
    });
  });

  it('the verifier checking site chains: site copies with mutated attributes, bodies and checkpoints never throw', () => {
    const next = random(20260226);
    // A genuine site copy: 20 events and a checkpoint of site "a".
    const copy: TrailRecord[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 20; seq++) {
      const body = { id: `e${seq}`, action: 'document.create', actor: { type: 'system' }, context: { site: { id: 'a' } }, timestamp: new Date(1_700_000_000_000 + seq).toISOString(), details: { n: seq } };
      const hash = linkHash(prevHash, canonicalJson(body));
      copy.push({ body, attributes: { [ATTR.streamId]: 'stream', [ATTR.seq]: seq * 3, [ATTR.hash]: hexOf(next), [ATTR.prevHash]: hexOf(next), [ATTR.siteId]: 'a', [ATTR.siteSeq]: seq, [ATTR.sitePrevHash]: prevHash, [ATTR.siteHash]: hash }, resource: {}, source: `copy:${seq}` });
      prevHash = hash;
    }
    const checkpoint = { id: 'c', action: 'audit.checkpoint', actor: { type: 'system' }, context: { site: { id: 'a' } }, timestamp: new Date(1_700_000_000_100).toISOString(), details: { stream_id: 'stream', site_id: 'a', seq: 20, hash: prevHash, interval_ms: 60_000, final: true } };
    copy.push({ body: checkpoint, attributes: { [ATTR.streamId]: 'stream', [ATTR.siteId]: 'a', [ATTR.siteSeq]: 20, [ATTR.siteHash]: prevHash }, resource: {}, source: 'copy:21' });
    assert.equal(verifyTrail(copy, { sites: ['a'], now: 1_700_000_001_000 }).ok, true, 'the genuine copy verifies');
    const names = [ATTR.siteId, ATTR.siteSeq, ATTR.sitePrevHash, ATTR.siteHash, ATTR.streamId];
    campaign('verify --site', 2_000, () => {
      const damaged = copy.map((record) => {
        if (next() > 0.3) return record;
        const attributes: Record<string, unknown> = { ...record.attributes };
        const body = JSON.parse(JSON.stringify(record.body)) as Record<string, unknown>;
        switch (Math.floor(next() * 4)) {
          case 0: attributes[names[Math.floor(next() * names.length)]!] = value(next, 2); break;
          case 1: delete attributes[names[Math.floor(next() * names.length)]!]; break;
          case 2: (body['details'] as Record<string, unknown>)[['seq', 'site_id', 'hash', 'interval_ms', 'n'][Math.floor(next() * 5)]!] = value(next, 2); break;
          default: attributes[ATTR.siteSeq] = [0, -1, 2 ** 53, 1e300, '7', 'x', Number.NaN][Math.floor(next() * 7)];
        }
        return { ...record, attributes, body };
      });
      const report = verifyTrail(next() < 0.5 ? damaged : damaged.reverse(), { sites: ['a', 'b'], now: 1_700_000_001_000, maxListed: 50 });
      assert.ok(report.records === copy.length);
    });
  });
});
