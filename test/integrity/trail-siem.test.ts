// readTrail on SIEM-format copies: OCSF, ECS and CIM JSON, and CEF lines; verifyTrail on what it reads.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { GENESIS_HASH, linkHash } from '../../src/integrity/chain.js';
import { readTrail } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { sampleEvent } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-trail-siem-'));
const event = { ...sampleEvent, details: { document: { id: 'd=1|\\', name: 'A | B = C \\ D\nE ✓' } } };
const chain = { 'log.record.uid': event.id, 'audit.stream.id': 's1', 'audit.seq': 1, 'audit.prev_hash': GENESIS_HASH, 'audit.hash': linkHash(GENESIS_HASH, canonicalJson(event)) };
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const cefValue = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('=', '\\=').replaceAll('\n', '\\n').replaceAll('\r', '\\r');

describe('readTrail on SIEM-format copies', () => {
  it('an OCSF event: raw_data is the event, unmapped the chain', () => {
    const ocsf = { class_uid: 6003, activity_id: 1, raw_data: JSON.stringify(event), unmapped: chain };
    const [record] = readTrail(file('ocsf.jsonl', `${JSON.stringify(ocsf)}\n`));
    assert.deepEqual(record!.body, event);
    assert.equal(record!.attributes['audit.hash'], chain['audit.hash']);
    assert.equal(verifyTrail(readTrail(file('ocsf2.jsonl', `${JSON.stringify(ocsf)}\n`))).ok, true);
  });

  it('an ECS document: event.original is the event, the chain in event.* and audit.*', () => {
    const ecs = {
      '@timestamp': event.timestamp,
      event: { original: JSON.stringify(event), id: event.id, hash: chain['audit.hash'], sequence: 1 },
      audit: { stream_id: 's1', prev_hash: GENESIS_HASH },
    };
    const records = readTrail(file('ecs.jsonl', `${JSON.stringify(ecs)}\n`));
    assert.deepEqual(records[0]!.body, event);
    assert.equal(verifyTrail(records).ok, true);
  });

  it('a Splunk export of a CIM copy: the chain comes out of the event body', () => {
    const result = { result: { _raw: JSON.stringify({ ...event, integrity: chain }), action: 'created' } };
    const records = readTrail(file('cim.jsonl', `${JSON.stringify(result)}\n`));
    assert.deepEqual(records[0]!.body, event);
    assert.equal(verifyTrail(records).ok, true);
  });

  it('a CEF line with escaped values; a changed character is found by verify', () => {
    const extensions = [
      'rt=1 cs2Label=auditHash cs2=' + chain['audit.hash'],
      `cs3Label=auditPrevHash cs3=${GENESIS_HASH} cs4Label=auditStreamId cs4=s1 cn1Label=auditSeq cn1=1`,
      `externalId=${event.id} suser=${cefValue('x = y \\')}`,
      `OtelAuditEvent=${cefValue(JSON.stringify(event))}`,
    ].join(' ');
    const line = `<110>1 - host app document.create - - CEF:0|Acme\\|Corp|otel-audit|0.1.0|document.create|A new document was created.|3|${extensions}`;
    const records = readTrail(file('cef.log', `${line}\n`));
    assert.deepEqual(records[0]!.body, event);
    assert.equal(records[0]!.attributes['audit.seq'], '1');
    assert.equal(verifyTrail(records).ok, true);
    const altered = readTrail(file('cef-altered.log', `${line.replace('A | B', 'A | b')}\n`));
    assert.equal(verifyTrail(altered).streams[0]!.tampered.length, 1);
  });

  it('a site\'s chain in an ECS document and a CEF line: verify --site reads it back', () => {
    const site = { 'audit.site.id': '42', 'audit.site.seq': 1, 'audit.site.prev_hash': GENESIS_HASH, 'audit.site.hash': chain['audit.hash'] };
    const ecs = {
      '@timestamp': event.timestamp,
      event: { original: JSON.stringify(event), id: event.id, hash: chain['audit.hash'], sequence: 1 },
      organization: { id: '42' },
      audit: { stream_id: 's1', prev_hash: GENESIS_HASH, site_seq: 1, site_prev_hash: GENESIS_HASH, site_hash: site['audit.site.hash'] },
    };
    const extensions = [
      `rt=1 cs4Label=auditStreamId cs4=s1 cn1Label=auditSeq cn1=1 cn2Label=auditSiteSeq cn2=1`,
      `OtelAuditSiteId=42 OtelAuditSitePrevHash=${GENESIS_HASH} OtelAuditSiteHash=${site['audit.site.hash']}`,
      `OtelAuditEvent=${cefValue(JSON.stringify(event))}`,
    ].join(' ');
    const cef = `<110>1 - host app document.create - - CEF:0|otel-audit|otel-audit|0.1.0|document.create|created|3|${extensions}`;
    for (const [name, content] of [['ecs-site.jsonl', JSON.stringify(ecs)], ['cef-site.log', cef]]) {
      const records = readTrail(file(name!, `${content}\n`));
      const report = verifyTrail(records, { sites: ['42'] });
      assert.equal(report.ok, true, `${name}: ${JSON.stringify(report)}`);
      assert.deepEqual(report.streams.map((s) => [s.siteId, s.events]), [['42', 1]], name);
    }
  });

  it('a syslog line whose JSON mentions CEF is still read as JSON', () => {
    const withCef = { ...event, details: { document: { id: 'd1', name: 'CEF:0|not|a|header' } } };
    const line = `[audit@32473 audit.seq="1"] ${JSON.stringify(withCef)}`;
    assert.deepEqual(readTrail(file('syslog.log', `${line}\n`))[0]!.body, withCef);
  });
});
