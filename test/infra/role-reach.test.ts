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

  const rolesWhere = (test: (row: (typeof rows)[number]) => boolean) =>
    [...new Set(rows.filter(test).map((row) => row.role))].sort();
  const secretRows = (part: RegExp, actions: RegExp) => (row: (typeof rows)[number]) =>
    part.test(row.reaches) && actions.test(row.actions);

  it('lets only the steps that change the CA write it, and keeps every key from the read-only steps', () => {
    // THEN: who writes which part of the store
    const writes = /CreateSecret|PutSecretValue|UpdateSecretVersionStage/;
    expect(rolesWhere(secretRows(/secret meshtrust\/payments\/root-\?/, writes))).toEqual([
      'promote-root',
      'rollback',
      'stage-root',
    ]);
    expect(rolesWhere(secretRows(/intermediate\/\*/, writes))).toEqual(['reissue-intermediate']);
    expect(rolesWhere(secretRows(/backup\/\*/, writes))).toEqual([
      'distribute-bundle',
      'reissue-intermediate',
    ]);
    // Who may delete: promote-root an old root's key secret and a root rotation's cacerts backups;
    // release-lock a succeeded rekey's backups, rollback a rolled-back run's (after its last stage).
    expect(rolesWhere((row) => /DeleteSecret/.test(row.actions))).toEqual([
      'promote-root',
      'release-lock',
      'rollback',
    ]);
    expect(rolesWhere(secretRows(/backup\/\*/, /DeleteSecret/))).toEqual([
      'promote-root',
      'release-lock',
      'rollback',
    ]);
    // Deleting a backup is not reading it: the steps that only delete them get nothing else of them,
    // from IAM or from the backups' resource policy.
    for (const deleter of ['promote-root', 'release-lock']) {
      expect(rows.filter((row) => row.role === deleter && /backup\/\*/.test(row.reaches))).toEqual([
        {
          role: deleter,
          reaches: 'secret meshtrust/payments/backup/*',
          actions: 'secretsmanager:DeleteSecret, secretsmanager:DescribeSecret',
        },
        {
          role: deleter,
          reaches: 'secret meshtrust/payments/backup/* (its resource policy names it)',
          actions: 'secretsmanager:DeleteSecret',
        },
      ]);
    }
    // A key-holding secret's resource policy lets no role read it that IAM does not already let.
    const policyReaders = (part: RegExp) =>
      rolesWhere(
        (row) =>
          part.test(row.reaches) && /resource policy/.test(row.reaches) && /GetSecretValue/.test(row.actions),
      );
    const iamReaders = (part: RegExp) =>
      rolesWhere(
        (row) =>
          part.test(row.reaches) &&
          !/resource policy/.test(row.reaches) &&
          /GetSecretValue/.test(row.actions),
      );
    for (const part of [/intermediate\/\*/, /backup\/\*/, /root-key\/\*/]) {
      expect({ part: part.source, readers: policyReaders(part) }).toEqual({
        part: part.source,
        readers: iamReaders(part),
      });
      expect(policyReaders(part).length).toBeGreaterThan(0);
    }
    // Secrets that hold a private key (intermediates, cacerts backups, an imported root's key): only
    // the steps that sign with them, back them up or restore them reach one.
    const keySecrets = /intermediate\/\*|backup\/\*|root-key\/\*/;
    expect(rolesWhere((row) => keySecrets.test(row.reaches) && /GetSecretValue/.test(row.actions))).toEqual([
      'distribute-bundle',
      'reissue-intermediate',
      'restart-workloads',
      'rollback',
    ]);
    for (const readOnly of [
      'check-expiry',
      'preflight',
      'record-approval',
      'verify-trust',
      'verify-workloads',
    ]) {
      expect({
        readOnly,
        reaches: rows.filter((row) => row.role === readOnly && keySecrets.test(row.reaches)),
      }).toEqual({
        readOnly,
        reaches: [],
      });
    }
    // The lock's steps and the cluster role reach nothing of the CA, but for release-lock's deletion
    // of a succeeded rekey's backups (above).
    expect(
      rows.filter(
        (row) =>
          (/lock/.test(row.role) && !(row.role === 'release-lock' && /backup\/\*/.test(row.reaches))) ||
          row.role.startsWith('cluster role'),
      ),
    ).toEqual([]);
    expect(rolesWhere((row) => /kms:CreateKey/.test(row.actions))).toEqual(['stage-root']);
    expect(rolesWhere((row) => /kms:Sign/.test(row.actions))).toEqual(['reissue-intermediate', 'stage-root']);
    expect(rolesWhere((row) => /kms:ScheduleKeyDeletion/.test(row.actions))).toEqual([
      'promote-root',
      'rollback',
    ]);
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
