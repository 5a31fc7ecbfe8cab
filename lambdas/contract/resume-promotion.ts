/**
 * Finishing a run that stopped in promote-root (docs/workflow.md, "Finishing a stopped promotion"): the
 * names the state machine (lib/rotation-state-machine.ts), promote-root and the CLI (`meshtrust
 * retry-promotion`) share. Such a run left its fleet trusting only the new root while that root is still
 * AWSPENDING: it cannot be rolled back (the fleet would break) and a new rotation is refused at preflight
 * (a pending root), so a new execution is started whose input carries the stopped run's staged root and
 * clusters; it takes the lock and goes straight to promote-root, which is idempotent. The value's shape,
 * and how it is read from the stopped run's history, is lambdas/core/rotation/resume-promotion.ts.
 * Nothing here imports anything.
 */

/** Execution input key: what a resumed promotion needs of the stopped run's state (core ResumePromotion). */
export const RESUME_PROMOTION_INPUT_KEY = 'resumePromotion';

/**
 * State key, and promote-root's event key: the execution whose staged root is promoted and whose cacerts
 * backups are deleted. null in a rotation (its own); the stopped rotation's ARN in a resumed promotion.
 */
export const PROMOTION_OF_KEY = 'promotionOf';
