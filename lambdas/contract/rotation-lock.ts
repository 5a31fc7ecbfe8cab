/**
 * The facts of the rotation lock that the stack (lib/) and the handlers both need, declared once: the
 * environment keys the stack sets and the handlers read, and the key of the table's items.
 * Nothing here imports anything, so lib/ can use it without pulling handler code into synthesis.
 */

/** Environment key: name of the DynamoDB table holding the lock item (docs/workflow.md, "The rotation lock"). */
export const LOCK_TABLE_NAME_ENV = 'LOCK_TABLE_NAME';

/**
 * Environment key: seconds a lock of an execution that is no longer running stays untouchable before
 * another execution may take it over. The stack sets it to the longest function timeout: a function the
 * stopped execution invoked may still be writing until then.
 */
export const LOCK_TAKEOVER_GRACE_SECONDS_ENV = 'LOCK_TAKEOVER_GRACE_SECONDS';

/** The table's partition key (a string): one item per mesh, `rotation/<meshId>`. */
export const LOCK_TABLE_PARTITION_KEY = 'lockId';

/** The key prefix of the lock items (`rotation/<meshId>`): the lock functions may write only those. */
export const LOCK_ITEM_KEY_PREFIX = 'rotation/';

/**
 * The table's time-to-live attribute (a number, epoch seconds): DynamoDB deletes an item some time after
 * it passes. Only the approval records carry it (APPROVAL_RECORD_LIFETIME_SECONDS); a lock item never
 * does, so a held lock is never deleted behind its holder.
 */
export const LOCK_TABLE_TTL_ATTRIBUTE = 'expiresAt';
