// The rule of a site's copy, in code and as the OTTL condition of the Collector's filter processor
// (test/e2e/site-copies.test.ts runs the condition in the real Collector).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTR, inSiteCopy, siteCopyDropCondition } from '../src/attributes.js';

describe("a site's copy", () => {
  it('holds the records whose audit.site.id is the site and that carry audit.site.seq', () => {
    assert.equal(inSiteCopy({ [ATTR.siteId]: '42', [ATTR.siteSeq]: 1 }, '42'), true);
    assert.equal(inSiteCopy({ [ATTR.siteId]: '42', [ATTR.siteSeq]: '1' }, '42'), true, 'as a copy that turned numbers into strings keeps it');
    assert.equal(inSiteCopy({ [ATTR.siteId]: '42' }, '42'), false, 'an installation-only action with the site in its context');
    assert.equal(inSiteCopy({ [ATTR.siteId]: '43', [ATTR.siteSeq]: 1 }, '42'), false, "another site's event");
    assert.equal(inSiteCopy({ [ATTR.siteSeq]: 1 }, '42'), false);
    assert.equal(inSiteCopy({ [ATTR.siteId]: 42, [ATTR.siteSeq]: 1 }, '42'), false, 'audit.site.id is a string');
  });

  it('the filter condition drops every other record; the site id is a quoted OTTL string literal, whatever it holds', () => {
    assert.equal(siteCopyDropCondition('42'), 'attributes["audit.site.id"] == nil or attributes["audit.site.id"] != "42" or attributes["audit.site.seq"] == nil');
    assert.equal(siteCopyDropCondition('o"neil\\co\n'), 'attributes["audit.site.id"] == nil or attributes["audit.site.id"] != "o\\"neil\\\\co\\n" or attributes["audit.site.seq"] == nil');
    assert.throws(() => siteCopyDropCondition(''), /site must be a non-empty string/);
  });
});
