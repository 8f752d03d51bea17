import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { suggestActions, unknownActionMessage } from '../../src/catalog/define.js';
import { AuditValidationError, createAuditLogger } from '../../src/index.js';
import { freePort } from '../helpers/ports.js';

const actions = Object.keys(gristCatalog.actions);

describe('suggestions for a misspelled action (run time)', () => {
  it('documnt.rename: document.rename first, not every document.* action', () => {
    assert.deepEqual(suggestActions('documnt.rename', actions), ['document.rename']);
    assert.equal(unknownActionMessage('documnt.rename', actions), 'unknown action "documnt.rename": not in the catalog; did you mean "document.rename"?');
  });

  it('counts a swap of neighbours as one edit, ranks by edits then name, at most three within one edit of the closest', () => {
    assert.deepEqual(suggestActions('docuemnt.rename', actions), ['document.rename']);
    const names = ['file.open', 'file.opem', 'file.oper', 'file.opens', 'file.oven', 'file.closed'];
    assert.deepEqual(suggestActions('file.ope', names), ['file.opem', 'file.open', 'file.oper']);
    assert.deepEqual(suggestActions('file.opensx', names), ['file.opens', 'file.open']);
    assert.deepEqual(suggestActions('file.ovem', names), ['file.opem', 'file.oven', 'file.open']);
    assert.equal(unknownActionMessage('file.ope', names), 'unknown action "file.ope": not in the catalog; did you mean "file.opem", "file.open" or "file.oper"?');
  });

  it('suggests nothing beyond three edits', () => {
    assert.deepEqual(suggestActions('invoice.pay', actions), []);
    assert.deepEqual(suggestActions('', actions), []);
    assert.equal(unknownActionMessage('invoice.pay', actions), 'unknown action "invoice.pay": not in the catalog, and none is close to it');
  });

  it('for 2,000 random single edits of a catalog action (insert, delete, substitute, swap), the action is among the suggestions', () => {
    let seed = 26;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const letters = 'abcdefghijklmnopqrstuvwxyz._';
    for (let i = 0; i < 2000; i++) {
      const action = actions[random(actions.length)]!;
      const at = random(action.length);
      const letter = letters[random(letters.length)]!;
      const edits = [
        action.slice(0, at) + letter + action.slice(at),
        action.slice(0, at) + action.slice(at + 1),
        action.slice(0, at) + letter + action.slice(at + 1),
        action.slice(0, at) + (action[at + 1] ?? '') + action[at] + action.slice(at + 2),
      ];
      const typed = edits[random(edits.length)]!;
      if (typed === action) continue;
      const suggested = suggestActions(typed, actions);
      // Another action one edit away may come first (in name order); the action itself is listed.
      assert.ok(suggested.includes(action) || actions.includes(typed), `${typed} → ${suggested.join(', ')} (from ${action})`);
    }
  });

  it("logEvent's unknown action issue names the suggestion", async () => {
    const reports: unknown[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`, onError: (r) => reports.push(r) });
    audit.logEvent('documnt.rename' as never, { details: {} } as never);
    await audit.shutdown({ timeoutMillis: 100 });
    const invalid = reports.find((r): r is AuditValidationError => r instanceof AuditValidationError);
    assert.deepEqual(invalid?.issues, [{ path: 'action', message: 'unknown action "documnt.rename": not in the catalog; did you mean "document.rename"?' }]);
  });
});
