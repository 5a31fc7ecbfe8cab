import type { DefinitionTask } from '../../../rehearsal/definition-tasks.js';
import {
  checkFailAt,
  createFailureInjector,
  failAtStates,
  formatFailAt,
  formatFailAts,
  parseFailAt,
} from '../../../rehearsal/fail-at.js';
import { RehearsalOptionsError } from '../../../rehearsal/rehearsal-errors.js';

describe('--fail-at', () => {
  it('reads a state, an optional cluster and an optional once', () => {
    // Act & Assess
    expect(parseFailAt('stage-root')).toEqual({ state: 'stage-root', once: false });
    expect(parseFailAt('reissue-intermediate:lab-2')).toEqual({
      state: 'reissue-intermediate',
      cluster: 'lab-2',
      once: false,
    });
    expect(parseFailAt('distribute-bundle:lab-1:once')).toEqual({
      state: 'distribute-bundle',
      cluster: 'lab-1',
      once: true,
    });
    expect(parseFailAt('promote-root:once')).toEqual({ state: 'promote-root', once: true });
    expect(formatFailAt(parseFailAt('distribute-bundle:lab-1:once'))).toBe('distribute-bundle:lab-1:once');
  });

  it('refuses text that is not STATE[:CLUSTER][:once]', () => {
    // Act & Assess
    for (const text of ['', ':lab-1', 'a:b:c:d', 'stage-root::once']) {
      expect(() => parseFailAt(text)).toThrow(RehearsalOptionsError);
    }
  });

  it('fails every matching invocation of a Map task for its cluster only, as a plain failure', () => {
    // Prepare
    const injector = createFailureInjector([parseFailAt('reissue-intermediate:lab-2')]);

    // Act
    const other = () => injector.afterInvocation('reissue-intermediate-in-cluster', { cluster: 'lab-1' });
    const target = () => injector.afterInvocation('reissue-intermediate-in-cluster', { cluster: 'lab-2' });
    const elsewhere = () => injector.afterInvocation('distribute-bundle-in-cluster', { cluster: 'lab-2' });

    // Assess
    expect(other).not.toThrow();
    expect(elsewhere).not.toThrow();
    expect(target).toThrow(expect.objectContaining({ name: 'RehearsalInjectedFailure' }));
    expect(target).toThrow(expect.objectContaining({ name: 'RehearsalInjectedFailure' }));
  });

  it('stops the failures that fired once the operator fixed them (--retry-rollback), and keeps one that has not fired', () => {
    // Prepare: the rollback failed at rollback-restore; rollback-drop-pending was never reached
    const injector = createFailureInjector([
      parseFailAt('rollback-restore:lab-1'),
      parseFailAt('rollback-drop-pending'),
    ]);
    const restore = () => injector.afterInvocation('rollback-restore-in-cluster', { cluster: 'lab-1' });
    const dropPending = () => injector.afterInvocation('rollback-drop-pending', {});
    expect(restore).toThrow(expect.objectContaining({ name: 'RehearsalInjectedFailure' }));

    // Act
    injector.fixFired();

    // Assess: the resumed rollback restores, then fails where it had not failed yet
    expect(restore).not.toThrow();
    expect(dropPending).toThrow(expect.objectContaining({ name: 'RehearsalInjectedFailure' }));
    injector.fixFired();
    expect(dropPending).not.toThrow();
  });

  it('takes several --fail-at: the first that matches an invocation decides, each once-only one fails once', () => {
    // Prepare
    const injector = createFailureInjector([
      parseFailAt('reissue-intermediate:lab-2'),
      parseFailAt('rollback-restore:lab-1:once'),
    ]);

    // Act
    const trigger = () => injector.afterInvocation('reissue-intermediate-in-cluster', { cluster: 'lab-2' });
    const rollback = () => injector.afterInvocation('rollback-restore-in-cluster', { cluster: 'lab-1' });

    // Assess
    expect(trigger).toThrow(expect.objectContaining({ name: 'RehearsalInjectedFailure' }));
    expect(rollback).toThrow(expect.objectContaining({ name: 'TransientError' }));
    expect(rollback).not.toThrow();
    expect(injector.injected).toBe(2);
    expect(formatFailAts([parseFailAt('a:lab-1'), parseFailAt('b:once')])).toBe('a:lab-1, b:once');
  });

  it('fails once with a TransientError, which every Task retries, then lets the retry through', () => {
    // Prepare
    const injector = createFailureInjector([parseFailAt('stage-root:once')]);

    // Act
    const first = () => injector.afterInvocation('stage-root', { executionId: 'x' });

    // Assess
    expect(first).toThrow(expect.objectContaining({ name: 'TransientError' }));
    expect(first).not.toThrow();
    expect(injector.injected).toBe(1);
  });
});

describe('--fail-at names, checked against the definition and the fleet', () => {
  const tasks: DefinitionTask[] = [
    { state: 'preflight', resource: 'arn:preflight', functionArn: 'arn:preflight', waitsForTaskToken: false },
    {
      state: 'distribute-bundle-in-cluster',
      resource: 'arn:aws:states:::lambda:invoke',
      functionArn: 'arn:distribute-bundle',
      waitsForTaskToken: false,
      map: 'distribute-bundle',
    },
  ];
  const known = { states: failAtStates(tasks), clusters: ['lab-1', 'lab-2'] };

  it('takes a Task state, a Map by its name or by its Task, and a cluster of the fleet', () => {
    // Act & Assess
    for (const text of ['preflight', 'distribute-bundle:lab-2', 'distribute-bundle-in-cluster:lab-1:once']) {
      expect(() => checkFailAt(parseFailAt(text), known)).not.toThrow();
    }
  });

  it('refuses a state that is no Task of the definition, listing each Task once (a Map by its name)', () => {
    // Act & Assess
    expect(() => checkFailAt(parseFailAt('bogus-state'), known)).toThrow(
      new RehearsalOptionsError(
        '--fail-at',
        '--fail-at bogus-state: the state machine has no Task state "bogus-state"; valid: distribute-bundle, preflight (a Map also as <name>-in-cluster)',
      ),
    );
  });

  it('refuses a cluster the fleet does not have, listing the fleet', () => {
    // Act & Assess
    expect(() => checkFailAt(parseFailAt('distribute-bundle:lab-3'), known)).toThrow(
      'the lab has no cluster "lab-3"; valid: lab-1, lab-2',
    );
  });
});
