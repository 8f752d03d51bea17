import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { linkHash, GENESIS_HASH, HashChain } from '../../src/integrity/chain.js';

describe('canonicalJson (RFC 8785)', () => {
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

  it('replaces lone surrogates in keys, then sorts: the order is that of the keys the receiver sees', () => {
    // U+D800 sorts before U+E000, but its replacement U+FFFD sorts after it.
    assert.equal(canonicalJson({ '\ud800': 1, '\ue000': 2 }), '{"\ue000":2,"\ufffd":1}');
    assert.equal(canonicalJson({ '\ud800': 1, '\ue000': 2, '7': 3 }), '{"7":3,"\ue000":2,"\ufffd":1}', 'the slow path for integer-like keys too');
    assert.equal(canonicalJson({ x: { '\udc00z': true, '\uf000': false } }), '{"x":{"\uf000":false,"\ufffdz":true}}');
  });

  it('keys that become equal keep the last member in insertion order, as a receiver reading the wire does', () => {
    assert.equal(canonicalJson({ 'a\ud800': 1, 'a\udc00': 2, b: 3 }), '{"a\ufffd":2,"b":3}');
    assert.equal(canonicalJson({ 'a\udc00': 2, 'a\ud800': 1 }), '{"a\ufffd":1}');
    assert.equal(canonicalJson({ 'a\ud800': 1, 'a\ufffd': 2 }), canonicalJson(JSON.parse('{"a\ufffd":1,"a\ufffd":2}')));
  });

  it('writes a member named __proto__ (as JSON.parse makes it) like any other member', () => {
    const parsed = JSON.parse('{"b":1,"__proto__":{"x":2}}') as unknown;
    assert.equal(canonicalJson(parsed), '{"__proto__":{"x":2},"b":1}');
    assert.equal(canonicalJson(JSON.parse('{"1":0,"__proto__":3}')), '{"1":0,"__proto__":3}');
  });
});

describe('canonicalJson: the test vectors of RFC 8785', () => {
  it('section 3.2.2: numbers, the string escapes and literals', () => {
    // As printed in the RFC: String.raw keeps its escapes as JSON text.
    const input = JSON.parse(String.raw`{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}`) as unknown;
    assert.equal(canonicalJson(input), String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`);
  });

  it('section 3.2.3: sorting of properties by UTF-16 code units', () => {
    const input = JSON.parse('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}') as unknown;
    assert.equal(
      canonicalJson(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('section 3.2.4: no Unicode normalization, UTF-8 bytes as given', () => {
    const output = canonicalJson(JSON.parse('{"Unnormalized Unicode":"A\\u030a"}'));
    assert.equal(Buffer.from(output).toString('hex'), '7b22556e6e6f726d616c697a656420556e69636f6465223a2241cc8a227d');
  });

  it('appendix B: number serialization from IEEE 754 bit patterns, and no NaN or Infinity', () => {
    const samples: [string, string][] = [
      ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'], ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'], ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'], ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'], ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'], ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'], ['41b3de4355555554', '333333333.33333325'], ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'], ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'], ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, expected] of samples) assert.equal(canonicalJson(Buffer.from(bits, 'hex').readDoubleBE(0)), expected, bits);
    for (const bits of ['7fffffffffffffff', '7ff0000000000000']) assert.throws(() => canonicalJson(Buffer.from(bits, 'hex').readDoubleBE(0)), TypeError);
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
