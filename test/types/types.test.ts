import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = ['test/types/logger-types.ts', 'test/types/middleware-types.ts', 'test/types/auth-catalog-types.ts', 'test/types/admin-types.ts'];
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** Compiles one file with the project's settings (or those of `base`); returns the diagnostics (empty when it compiles). */
function compile(file: string, base = 'tsconfig.json'): string {
  // Inside the project, so that @types/node and the packages resolve as they do for the sources.
  const dir = mkdtempSync(join(root, 'test/types/.tmp-'));
  const config = join(dir, 'tsconfig.json');
  writeFileSync(config, JSON.stringify({ extends: join(root, base), compilerOptions: { noEmit: true }, include: [file], exclude: [] }));
  try {
    execFileSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8' });
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const fixture of fixtures) {
  describe(`types: ${fixture}`, () => {
    it('compile correct calls, and every @ts-expect-error marks a real error', () => {
      assert.equal(compile(join(root, fixture)), '');
    });

    it('reject each marked call once the directive is removed', () => {
      const source = readFileSync(join(root, fixture), 'utf8');
      const expected = source.split('\n').filter((line) => line.trim().startsWith('// @ts-expect-error')).length;
      const stripped = join(root, 'test/types', `.tmp-stripped-${basename(fixture)}`);
      writeFileSync(stripped, source.replaceAll('// @ts-expect-error', '// (expected error)'));
      try {
        const output = compile(stripped);
        const errorLines = new Set(output.split('\n').filter((line) => line.includes('error TS')).map((line) => /\((\d+),/.exec(line)?.[1]));
        assert.equal(errorLines.size, expected, output);
      } finally {
        rmSync(stripped, { force: true });
      }
    });
  });
}

describe('a misspelled action', () => {
  it('fails to compile with a message naming the closest valid actions, not the catalog type', () => {
    const file = join(root, 'test/types/.tmp-misspelled-action.ts');
    writeFileSync(
      file,
      [
        "import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';",
        "import { createAuditLogger } from '../../src/index.js';",
        'const audit = createAuditLogger({ catalog: gristCatalog });',
        "audit.logEvent('document.creat', { details: { document: { id: 'd1', name: 'Plan' } } });",
        "void audit.logEventOrThrow('document.c', { details: {} });",
        "audit.logEvent('invoice.pay', { details: {} });",
      ].join('\n'),
    );
    try {
      const errors = compile(file).split('\n').filter((line) => line.includes('error TS'));
      assert.equal(errors.length, 3, errors.join('\n'));
      assert.match(errors[0]!, /\(4,16\): .*'"document\.creat is not an action of this catalog; valid actions: document\.create"'\.$/);
      // Every action sharing the longest prefix, in the compiler's order.
      const listed = /document\.c is not an action of this catalog; valid actions: ([^"]+)"'\.$/.exec(errors[1]!)?.[1]?.split(', ');
      assert.deepEqual(listed?.sort(), ['document.change_access', 'document.clear_all_webhook_queues', 'document.clear_webhook_queue', 'document.create'], errors[1]);
      // Nothing in common: the first eight, and how many more, within the compiler's message length.
      assert.match(errors[2]!, /invoice\.pay is not an action of this catalog; valid actions: ([a-z_]+\.[a-z_]+, ){7}[a-z_]+\.[a-z_]+ and 32 more \(otel-audit docs lists them\)"'\.$/);
      for (const error of errors) assert.doesNotMatch(error, /Zod|Catalog</);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe('the Admin Panel page script (src/admin/page-script.js)', () => {
  it('is type-checked against the server\'s types and the DOM: a field the API does not answer, or an element does not have, is an error', () => {
    const script = join(root, 'src/admin/page-script.js');
    assert.equal(compile(script, 'tsconfig.page.json'), '');
    const source = readFileSync(script, 'utf8');
    const mistaken = source
      .replaceAll("import('./", "import('../../src/admin/")
      .replace('String(h.queued)', 'String(h.queue)')
      .replace("input('f-id').readOnly = true", "input('f-id').readonly = true");
    assert.equal((mistaken.match(/\.queue\)|\.readonly = /g) ?? []).length, 2, 'both mistakes made');
    const file = join(root, 'test/types/.tmp-page-script.js');
    writeFileSync(file, mistaken);
    try {
      const errors = compile(file, 'tsconfig.page.json').split('\n').filter((line) => line.includes('error TS'));
      assert.equal(errors.length, 2, errors.join('\n'));
      assert.match(errors[0]!, /Property 'queue' does not exist on type 'DestinationHealth'/);
      assert.match(errors[1]!, /Property 'readonly' does not exist on type 'HTMLInputElement'/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
