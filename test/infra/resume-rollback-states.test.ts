import {
  FIRST_WRITE_STATES,
  PAST_NO_RETURN_STATES,
  ROLLED_BACK_STATES,
  STOPPED_STATES,
} from '../../lambdas/core/rotation/resume-rollback.js';
import { WORKFLOW_STATES } from '../../lib/workflow-states.js';

// resumeRollbackOf judges where a run stopped outside the state machine stood by state names it lists
// itself (core imports nothing of lib/): each must be a state of the state machine.
describe('the states resumeRollbackOf reads in a stopped run', () => {
  const states = new Set<string>(Object.values(WORKFLOW_STATES));

  it.each([
    ['FIRST_WRITE_STATES', FIRST_WRITE_STATES],
    ['PAST_NO_RETURN_STATES', PAST_NO_RETURN_STATES],
    ['ROLLED_BACK_STATES', ROLLED_BACK_STATES],
    ['STOPPED_STATES', STOPPED_STATES],
  ])('%s names states of the state machine', (_name, names) => {
    // Assess
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !states.has(name))).toEqual([]);
  });
});
