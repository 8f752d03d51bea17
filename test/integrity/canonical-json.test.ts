import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { linkHash, GENESIS_HASH, HashChain } from '../../src/integrity/chain.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops whitespace', () => {
    // The key-order example of RFC 8785 section 3.2.3.
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    assert.equal(
      canonicalJson(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('writes numbers as ECMAScript does', () => {
    assert.equal(canonicalJson([333333333.33333329, 1e30, 4.5, 0.002, 1e-27, -0, 146]), '[333333333.3333333,1e+30,4.5,0.002,1e-27,0,146]');
  });

  it('orders integer-like keys as strings too (JavaScript would put them first, numerically)', () => {
    assert.equal(canonicalJson({ b: 1, '10': 2, a: { '9': [{ z: 1, '2': 0 }], '10': null }, '9': 3 }), '{"10":2,"9":3,"a":{"10":null,"9":[{"2":0,"z":1}]},"b":1}');
  });

  it('nests, keeps array order, skips undefined members, and refuses what JSON cannot hold', () => {
    assert.equal(canonicalJson({ b: [3, { d: null, c: true }], a: undefined }), '{"b":[3,{"c":true,"d":null}]}');
    assert.throws(() => canonicalJson({ n: Number.NaN }));
    assert.throws(() => canonicalJson({ f: () => 1 }));
  });

  it('hashes what the receiver will see: a lone surrogate as U+FFFD', () => {
    assert.equal(canonicalJson('a\ud800b'), canonicalJson('a\ufffdb'));
  });
});

describe('hash chain', () => {
  it('links each hash to the previous one, keyed or not', () => {
    const chain = new HashChain({ streamId: 's', seq: 0, hash: GENESIS_HASH });
    const first = chain.next('{"a":1}');
    const second = chain.next('{"a":2}');
    assert.equal(first.prevHash, GENESIS_HASH);
    assert.equal(second.prevHash, first.hash);
    assert.equal(second.seq, 2);
    assert.equal(first.hash, linkHash(GENESIS_HASH, '{"a":1}'));
    assert.notEqual(linkHash(GENESIS_HASH, '{"a":1}', Buffer.from('key')), first.hash);
  });
});
