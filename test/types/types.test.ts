import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = ['test/types/logger-types.ts', 'test/types/middleware-types.ts', 'test/types/auth-catalog-types.ts', 'test/types/report-types.ts', 'test/types/admin-types.ts'];
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
  it('fails to compile with a message naming at most three actions within a few edits, closest first, not the catalog type', () => {
    const file = join(root, 'test/types/.tmp-misspelled-action.ts');
    const misspelled = ['documnt.rename', 'document.creat', 'docuemnt.rename', 'invoce.aprove', 'document.renam', 'invoice.pay', 'doc.rename'];
    writeFileSync(
      file,
      [
        "import { z } from 'zod';",
        "import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';",
        "import { createAuditLogger, extendCatalog } from '../../src/index.js';",
        "const invoice = { description: 'x', scopes: ['site' as const], details: z.strictObject({}), sample: {} };",
        "const catalog = extendCatalog(gristCatalog, { 'invoice.approve': invoice, 'invoice.archive': invoice, 'invoice.remove': invoice });",
        'const audit = createAuditLogger({ catalog });',
        ...misspelled.map((action, i) => (i % 2 ? `void audit.logEventOrThrow('${action}', { details: {} });` : `audit.logEvent('${action}', { details: {} });`)),
      ].join('\n'),
    );
    try {
      const started = performance.now();
      const output = compile(file);
      const millis = performance.now() - started;
      const errors = output.split('\n').filter((line) => line.includes('error TS'));
      assert.equal(errors.length, misspelled.length, errors.join('\n'));
      const message = (action: string) => new RegExp(`'"${action.replace('.', '\\.')} is not an action of this catalog[^"]*"'\\.$`).exec(errors.find((e) => e.includes(`'"${action} is`))!)?.[0];
      assert.match(message('documnt.rename')!, /; did you mean document\.rename\?"/, 'a misspelled object: the action with the same verb');
      assert.match(message('document.creat')!, /; did you mean document\.create\?"/);
      assert.ok(readFileSync(join(root, 'README.md'), 'utf8').includes(message('document.creat')!), "the README's example is the compiler's message");
      assert.match(message('docuemnt.rename')!, /; did you mean document\.rename\?"/, 'two letters swapped');
      assert.match(message('invoce.aprove')!, /; did you mean invoice\.approve\?"/, 'one edit in each part');
      // Two within two edits, not every document.* action.
      assert.match(message('document.renam')!, /; did you mean document\.rename\?"/);
      assert.match(message('invoice.pay')!, /, and none is close to it \(otel-audit docs lists them\)"/);
      assert.match(message('doc.rename')!, /, and none is close to it/);
      for (const error of errors) assert.doesNotMatch(error, /Zod|Catalog<| and \d+ more/);
      // The compiler's own start-up is most of it; the suggestions must not make it slow.
      console.log(`tsc on ${misspelled.length} misspelled actions: ${Math.round(millis)} ms`);
      assert.ok(millis < 60_000, `${Math.round(millis)} ms`);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('lists up to three, closest first, never more than one edit farther than the closest', () => {
    const file = join(root, 'test/types/.tmp-misspelled-many.ts');
    writeFileSync(
      file,
      [
        "import { z } from 'zod';",
        "import { defineCatalog, createAuditLogger } from '../../src/index.js';",
        "const a = { description: 'x', scopes: ['site' as const], details: z.strictObject({}), sample: {} };",
        "const catalog = defineCatalog({ 'file.open': a, 'file.opem': a, 'file.oper': a, 'file.opens': a, 'file.closed': a });",
        'const audit = createAuditLogger({ catalog });',
        "audit.logEvent('file.ope', { details: {} });",
        "audit.logEvent('file.opensx', { details: {} });",
      ].join('\n'),
    );
    try {
      const errors = compile(file).split('\n').filter((line) => line.includes('error TS'));
      const listed = (typed: string) => /did you mean ([^?]+)\?"/.exec(errors.find((e) => e.includes(`'"${typed} is`)) ?? '')?.[1]?.replace(' or ', ', ').split(', ');
      // Four within two edits of file.ope: the three at one edit, not file.opens at two.
      assert.deepEqual(listed('file.ope')?.sort(), ['file.opem', 'file.open', 'file.oper'], errors.join('\n'));
      // file.opens at one edit, file.open at two; file.opem and file.oper at three are too far behind.
      assert.deepEqual(listed('file.opensx'), ['file.opens', 'file.open'], errors.join('\n'));
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
