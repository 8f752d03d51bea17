// Seeded randomness for property tests: the same cases on every run.

/** A small seeded generator (mulberry32): numbers in [0, 1). */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pieces = ['a', 'Zürich', '東京', '🎉', 'x'.repeat(600), '"\\\n', '\u00e9t\u00e9', ''];

/** A JSON value of every kind an event body holds: non-ASCII and long strings, large and negative numbers, nesting. */
export function value(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 4 : 6));
  switch (kind) {
    case 0: return pieces[Math.floor(next() * pieces.length)]! + String(Math.floor(next() * 1000));
    case 1: return [0, -1, 42, -(2 ** 40), 2 ** 53 - 1, 1.5, -0.25, 1e300, 2 ** 60][Math.floor(next() * 9)];
    case 2: return next() < 0.5;
    case 3: return null;
    case 4: return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, (_, i) => [`k${i}${pieces[i % 3]}`, value(next, depth + 1)]));
  }
}

/** `bytes` changed the way damage and hostile peers change bytes: flipped bits, overwritten, cut, inserted, deleted or repeated ranges. */
export function mutate(next: () => number, bytes: Uint8Array): Buffer {
  let out = Buffer.from(bytes);
  const at = () => Math.floor(next() * (out.length + 1));
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
  const rounds = 1 + Math.floor(next() * 3);
  for (let round = 0; round < rounds; round++) {
    const i = at();
    switch (Math.floor(next() * 7)) {
      case 0:
        if (out.length > 0) out[Math.min(i, out.length - 1)]! ^= 1 << Math.floor(next() * 8);
        break;
      case 1:
        if (out.length > 0) out[Math.min(i, out.length - 1)] = Math.floor(next() * 256);
        break;
      case 2:
        out = out.subarray(0, i);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, i), randomBytes(1 + Math.floor(next() * 16)), out.subarray(i)]);
        break;
      case 4:
        out = Buffer.concat([out.subarray(0, i), out.subarray(Math.min(out.length, i + 1 + Math.floor(next() * 16)))]);
        break;
      case 5: {
        const end = Math.min(out.length, i + 1 + Math.floor(next() * 32));
        out = Buffer.concat([out.subarray(0, end), out.subarray(i, end), out.subarray(end)]);
        break;
      }
      default:
        // A varint as long as it can be, or longer: the classic way to make a reader run off the end.
        out = Buffer.concat([out.subarray(0, i), Buffer.alloc(1 + Math.floor(next() * 12), 0xff), out.subarray(i)]);
    }
  }
  return out;
}
