// The SIEM mapping table: complete for the catalog, every value one its model allows, the
// derivation for custom catalogs, and the Collector fragments generated from it up to date.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bundledActions } from '../../src/catalog/catalogs/references.js';
import { BUNDLED_SIEM_OVERRIDES, CIM_CHANGE_ACTIONS, deriveSiemMapping, ocsfTypeUid, siemMappingOf } from '../../src/catalog/siem-mapping.js';
import { SIEM_FORMATS, siemFragment } from '../../scripts/siem-fragments.js';

const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'));
const OCSF_SCHEMAS = { 6003: 'api_activity', 3001: 'account_change', 3004: 'entity_management' } as const;
type ClassSchema = { properties: { activity_id: { enum: number[] }; type_uid: { enum: number[] }; category_uid: { const: number } } };

describe('SIEM mapping table', () => {
  const table = siemMappingOf(bundledActions);

  it('has one row per action of the bundled catalogs, and no entry for an action they lack', () => {
    assert.deepEqual(table.map((m) => m.action), Object.keys(bundledActions.actions).sort());
    for (const action of Object.keys(BUNDLED_SIEM_OVERRIDES)) assert.ok(action in bundledActions.actions, action);
  });

  it('OCSF: class, activity and type_uid are values the class schema allows', () => {
    for (const m of table) {
      const schema = fixture(`ocsf/${OCSF_SCHEMAS[m.ocsf.classUid]}.schema.json`) as ClassSchema;
      assert.ok(schema.properties.activity_id.enum.includes(m.ocsf.activityId), `${m.action}: activity ${m.ocsf.activityId}`);
      assert.ok(schema.properties.type_uid.enum.includes(ocsfTypeUid(m)), `${m.action}: type_uid ${ocsfTypeUid(m)}`);
    }
    const row = (action: string) => table.find((m) => m.action === action)!;
    assert.deepEqual([row('user.change_password'), row('user.enable_mfa'), row('user.disable_mfa')].map((m) => `${m.ocsf.classUid}/${m.ocsf.activityName}`), ['3001/Password Change', '3001/MFA Factor Enable', '3001/MFA Factor Disable']);
    assert.equal(table.find((m) => m.action === 'user.create_api_key')!.ocsf.classUid, 3001, 'API keys are account changes');
    for (const m of table.filter((m) => m.verb === 'change_access')) assert.equal(m.ocsf.classUid, 3004, m.action);
  });

  it('ECS: every category and type is allowed, and each type is expected with each category', () => {
    const allowed = (fixture('ecs/allowed-values.json') as { allowed_values: Record<string, { name: string; expected_event_types: string[] | null }[]> }).allowed_values;
    const expected = new Map(allowed['event.category']!.map((c) => [c.name, c.expected_event_types ?? []]));
    for (const m of table) {
      for (const category of m.ecs.category) for (const type of m.ecs.type) assert.ok(expected.get(category)?.includes(type), `${m.action}: ${category}/${type}`);
    }
  });

  it('CIM: every action is one of the Change data model prescribed values; CEF severity is 0-10', () => {
    for (const m of table) {
      assert.ok((CIM_CHANGE_ACTIONS as readonly string[]).includes(m.cim.action), m.action);
      assert.ok(Number.isInteger(m.cefSeverity) && m.cefSeverity >= 0 && m.cefSeverity <= 10, m.action);
    }
  });

  it('a refused login is a failure in every model; everything else a success', () => {
    assert.deepEqual(table.filter((m) => m.outcome === 'failure').map((m) => m.action), ['user.login_failed']);
    const ecs = (fixture('ecs/allowed-values.json') as { allowed_values: Record<string, { name: string }[]> }).allowed_values['event.outcome']!.map((o) => o.name);
    for (const m of table) assert.ok(ecs.includes(m.outcome), m.action);
    const loginFailed = table.find((m) => m.action === 'user.login_failed')!;
    assert.deepEqual({ ecs: loginFailed.ecs, kind: loginFailed.kind }, { ecs: { category: ['authentication'], type: ['start'] }, kind: 'start' });
  });

  it('a reason is given wherever the table departs from the derivation of OCSF class or activity', () => {
    for (const m of table) {
      const derived = deriveSiemMapping(m.action);
      if (m.ocsf.classUid !== derived.ocsf.classUid || m.ocsf.activityId !== derived.ocsf.activityId) assert.ok(m.reason, `${m.action} needs a reason`);
    }
  });

  it('derives sensible defaults for a custom catalog from <object>.<verb>', () => {
    assert.deepEqual(
      ['invoice.create', 'invoice.export_pdf', 'invoice.void', 'team.revoke_role', 'project.change_permissions', 'queue.clear', 'job.restart', 'account.disable'].map((action) => deriveSiemMapping(action).kind),
      ['create', 'read', 'update', 'access', 'access', 'clear', 'restart', 'stop'],
    );
    const created = deriveSiemMapping('invoice.create');
    assert.deepEqual(
      { object: created.object, ocsf: created.ocsf, ecs: created.ecs, cim: created.cim },
      { object: 'invoice', ocsf: { classUid: 6003, activityId: 1, activityName: 'Create' }, ecs: { category: ['api'], type: ['creation'] }, cim: { action: 'created', changeType: 'application', objectCategory: 'invoice' } },
    );
    assert.equal(deriveSiemMapping('user.anything').cim.changeType, 'AAA');
  });
});

describe('generated Collector fragments', () => {
  for (const format of SIEM_FORMATS) {
    it(`collector-config/formats/${format}.yaml is up to date with the table (run npm run docs)`, () => {
      assert.equal(readFileSync(new URL(`../../collector-config/formats/${format}.yaml`, import.meta.url), 'utf8'), siemFragment(format, bundledActions));
    });
  }

});
