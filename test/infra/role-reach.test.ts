// Who can reach the CA's secrets and keys, per role, from the synthesized template; docs/security.md
// must show exactly this table, so the security document stays true when IAM changes.
import { readFileSync } from 'node:fs';
import { reachTable, roleReach } from './role-reach.js';
import { synthMeshTrustStack } from './synth-mesh-trust-stack.js';

const DOC = 'docs/security.md';
const BEGIN = '<!-- role-reach:begin (test/infra/role-reach.test.ts) -->';
const END = '<!-- role-reach:end -->';

describe('role reach', () => {
  const rows = roleReach(synthMeshTrustStack());

  it('lets only the rotator write a CA secret or create a root key, and no role decrypt outside Secrets Manager', () => {
    // THEN
    const writers = rows.filter((row) => /PutSecretValue|CreateSecret|DeleteSecret/.test(row.actions));
    expect([...new Set(writers.map((row) => row.role))]).toEqual(['rotator (every rotation phase)']);
    expect(rows.filter((row) => row.role.startsWith('lock'))).toEqual([]);
    expect(
      rows.filter((row) => /kms:(Sign|CreateKey)/.test(row.actions)).map((row) => row.role),
    ).not.toContain('expiry check (daily)');
    expect(
      rows.some((row) => row.actions.includes('kms:Decrypt') && !row.reaches.includes('via Secrets Manager')),
    ).toBe(false);
  });

  it('is the table docs/security.md shows', () => {
    // GIVEN
    const doc = readFileSync(DOC, 'utf8');
    const shown = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END)).trim();
    // THEN
    expect(doc).toContain(BEGIN);
    expect(shown).toBe(reachTable(rows));
  });
});
