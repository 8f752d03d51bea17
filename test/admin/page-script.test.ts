// The page's script is JavaScript in a template literal: an escape the literal eats (a '\n' that
// must reach the browser as backslash-n) breaks the whole page without a type error anywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Script } from 'node:vm';
import { PAGE_SCRIPT } from '../../src/admin/page.js';

test('the Admin Panel page script parses as JavaScript', () => {
  assert.doesNotThrow(() => new Script(PAGE_SCRIPT, { filename: 'admin-page.js' }));
});
