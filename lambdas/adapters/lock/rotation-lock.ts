import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LOCK_ITEM_KEY_PREFIX, LOCK_TABLE_PARTITION_KEY } from '../../contract/rotation-lock.js';
import {
  decideTakeover,
  type HolderRun,
  type LockHolding,
  lockHeldMessage,
} from '../../core/rotation/rotation-lock.js';
import { RotationLocked, TransientError } from '../../core/rotation-errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry.js';

export interface RotationLockProps {
  readonly client: DynamoDBClient;
  /** The lock table (LOCK_TABLE_NAME); its partition key is LOCK_TABLE_PARTITION_KEY, a string. */
  readonly tableName: string;
  readonly meshId: string;
  /** What Step Functions says of the holder's execution (DescribeExecution). */
  readonly holderRun: (executionArn: string) => Promise<HolderRun>;
  /** How long the lock of a stopped execution stays untouchable (the longest function timeout). */
  readonly takeoverGraceSeconds: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default 4 attempts, 200 ms .. 5 s */
  readonly retry?: RetryPolicy;
}

/**
 * How an execution came to hold the lock: `taken` (it was free), `held` (this execution held it
 * already: a Retry, a redrive, or a later step checking it) or `taken-over` (from `previous`, whose
 * execution no longer runs).
 */
export interface LockAcquired {
  readonly holding: LockHolding;
  readonly how: 'taken' | 'held' | 'taken-over';
  readonly previous?: LockHolding;
  /** Why `previous` lost the lock. */
  readonly reason?: string;
}

/** `released`: this call removed the lock; otherwise `heldBy` says who holds it, if anyone. */
export interface LockReleased {
  readonly released: boolean;
  readonly heldBy?: string;
}

/** The item of a mesh's lock. */
export function lockIdFor(meshId: string): string {
  return `${LOCK_ITEM_KEY_PREFIX}${meshId}`;
}

/** How often acquire starts over when the item changed between its read and its conditional write. */
const ROUNDS = 3;

/**
 * The mesh's rotation lock: one DynamoDB item per mesh, holder = the execution ARN. Every change is a
 * conditional write, so two executions can never both hold it: taking a free lock is a PutItem that
 * requires the item to be absent, taking over a stale one requires the very holding that was judged
 * stale (holder and acquiredAt), and releasing is a DeleteItem that requires this execution to hold it.
 */
export class RotationLock {
  readonly lockId: string;
  private readonly props: RotationLockProps;
  private readonly now: () => Date;
  private readonly retry: RetryPolicy;

  constructor(props: RotationLockProps) {
    this.props = props;
    this.lockId = lockIdFor(props.meshId);
    this.now = props.now ?? (() => new Date());
    this.retry = props.retry ?? DEFAULT_RETRY_POLICY;
  }

  /**
   * Takes the lock for `executionId`, or finds it holds it already. Throws RotationLocked naming the
   * holder when another execution holds it and may not lose it (docs/workflow.md, "The rotation lock").
   */
  async acquire(executionId: string): Promise<LockAcquired> {
    for (let round = 1; round <= ROUNDS; round++) {
      const mine: LockHolding = { holder: executionId, acquiredAt: this.now().toISOString() };
      const free = await this.put(mine, 'attribute_not_exists(#id)', {});
      if (free.written) return { holding: mine, how: 'taken' };
      const current = free.current;
      if (current === undefined) continue; // released in between: try again
      if (current.holder === executionId) return { holding: current, how: 'held' };

      const run = await this.call('DescribeExecution of the lock holder', () =>
        this.props.holderRun(current.holder),
      );
      const decision = decideTakeover({
        holding: current,
        run,
        now: this.now(),
        graceSeconds: this.props.takeoverGraceSeconds,
      });
      if (!decision.takeover) {
        throw new RotationLocked(lockHeldMessage(this.props.meshId, current, decision.reason), {
          holder: current.holder,
        });
      }
      const takenOver = await this.put(mine, '#holder = :holder AND #acquiredAt = :acquiredAt', {
        ':holder': { S: current.holder },
        ':acquiredAt': { S: current.acquiredAt },
      });
      if (takenOver.written) {
        return { holding: mine, how: 'taken-over', previous: current, reason: decision.reason };
      }
      // Someone else took it over or released it in between: judge the new state.
    }
    throw new TransientError(
      `The rotation lock ${this.lockId} changed ${ROUNDS} times while this execution tried to take it; try again.`,
    );
  }

  /** Releases the lock if `executionId` holds it; never touches another execution's lock. */
  async release(executionId: string): Promise<LockReleased> {
    try {
      await this.call('DeleteItem', () =>
        this.props.client.send(
          new DeleteItemCommand({
            TableName: this.props.tableName,
            Key: this.key(),
            ConditionExpression: '#holder = :holder',
            ExpressionAttributeNames: { '#holder': 'holder' },
            ExpressionAttributeValues: { ':holder': { S: executionId } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { released: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = holdingOf(error.Item);
      return { released: false, ...(current !== undefined && { heldBy: current.holder }) };
    }
  }

  /** A conditional PutItem of `holding`; when the condition fails, the item as it was then. */
  private async put(
    holding: LockHolding,
    condition: string,
    values: Record<string, AttributeValue>,
  ): Promise<{ readonly written: boolean; readonly current?: LockHolding }> {
    // DynamoDB refuses a name the expression does not use.
    const names = Object.fromEntries(
      Object.entries({
        '#id': LOCK_TABLE_PARTITION_KEY,
        '#holder': 'holder',
        '#acquiredAt': 'acquiredAt',
      }).filter(([placeholder]) => condition.includes(placeholder)),
    );
    try {
      await this.call('PutItem', () =>
        this.props.client.send(
          new PutItemCommand({
            TableName: this.props.tableName,
            Item: {
              ...this.key(),
              holder: { S: holding.holder },
              acquiredAt: { S: holding.acquiredAt },
            },
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { written: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = holdingOf(error.Item);
      return { written: false, ...(current !== undefined && { current }) };
    }
  }

  private key(): Record<string, AttributeValue> {
    return { [LOCK_TABLE_PARTITION_KEY]: { S: this.lockId } };
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.retry, operation: `rotation lock: ${operation}` });
  }
}

function holdingOf(item: Record<string, AttributeValue> | undefined): LockHolding | undefined {
  const holder = item?.holder?.S;
  if (holder === undefined) return undefined;
  return { holder, acquiredAt: item?.acquiredAt?.S ?? 'unknown' };
}
