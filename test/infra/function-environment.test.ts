// One contract for the functions' environment (lambdas/contract/function-environment.ts): what each
// function's code reads is derived from the code (its bundle's sources, their reads), and the
// synthesized stack must set exactly that on the function. Lambda's own keys are read, never set;
// runtime keys (Node, Powertools) may be set without our code reading them.
import { basename } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import {
  LAMBDA_SET_ENV_KEYS,
  MIN_INTERMEDIATE_HEADROOM_DAYS_ENV,
  MIN_ROOT_HEADROOM_DAYS_ENV,
  ROTATION_FUNCTION_ENV_KEYS,
  RUNTIME_ENV_KEYS,
  VERIFY_TIMEOUT_SECONDS_ENV,
} from '../../lambdas/contract/function-environment.js';
import { APPROVAL_HANDLER_ENTRY, HANDLER_ENTRIES } from '../../lib/handler-entries.js';
import { bundledSources, envReadsOf, type SourceEnvReads, sourcesUnder } from './env-reads.js';
import {
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

const ENTRIES = [...Object.values(HANDLER_ENTRIES), APPROVAL_HANDLER_ENTRY];
const lambdaSet: ReadonlySet<string> = new Set(LAMBDA_SET_ENV_KEYS);
const runtime: ReadonlySet<string> = new Set(RUNTIME_ENV_KEYS);

/** The deployed name of an entry's function: lib/ names each after its handler file. */
const functionNameOf = (entry: string) => `meshtrust-payments-${basename(entry, '.ts')}`;

function environmentOf(fn: Record<string, unknown>): string[] {
  const variables = (fn.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  return Object.keys(variables ?? {}).sort();
}

describe('the functions environment', () => {
  const reads = new Map<string, SourceEnvReads>();
  let bundles: Map<string, string[]>;
  let stacks: [string, SynthesizedMeshTrustStack][];

  beforeAll(async () => {
    for (const path of sourcesUnder('lambdas')) reads.set(path, envReadsOf(path));
    bundles = await bundledSources(ENTRIES);
    stacks = [
      ['clusters by tag', synthMeshTrustStack()],
      ['approval on, clusters by name', synthMeshTrustStack({ approval: true, clusters: ['eu-1'] })],
    ];
    // Two syntheses and a bundle per function: seconds alone, far longer beside a loaded suite.
  }, 300_000);

  /** The keys a function's code reads: the reads of every source in its bundle. */
  const readBy = (entry: string): string[] => {
    const sources = bundles.get(entry);
    if (sources === undefined) throw new Error(`esbuild made no bundle of ${entry}`);
    return [...new Set(sources.flatMap((path) => reads.get(path)?.keys ?? []))].sort();
  };

  it('is read in lambdas/ only through adapters/environment.ts, each key named by a contract constant', () => {
    // WHEN
    const problems = [...reads.values()].flatMap((read) => read.problems);

    // THEN
    expect(problems).toEqual([]);
    expect(reads.size).toBeGreaterThan(50);
  });

  it('of a rotation function is what readRotationConfig reads: the contract table and what Lambda sets', () => {
    // WHEN
    const config = reads.get('lambdas/application/config.ts')?.keys;

    // THEN
    expect(config).toEqual([...ROTATION_FUNCTION_ENV_KEYS, ...LAMBDA_SET_ENV_KEYS].sort());
  });

  it('is read by every function from sources the scan covered', () => {
    for (const entry of ENTRIES) {
      // WHEN
      const sources = bundles.get(entry) ?? [];

      // THEN
      expect({ entry, unscanned: sources.filter((path) => !reads.has(path)) }).toEqual({
        entry,
        unscanned: [],
      });
      expect({ entry, readsSomething: readBy(entry).length > 0 }).toEqual({ entry, readsSomething: true });
    }
  });

  it('is set by the stack on each function exactly as its code reads it', () => {
    for (const [variant, { template }] of stacks) {
      // GIVEN
      const functions = resourcesOfType(template, 'AWS::Lambda::Function').map(([, fn]) => fn);
      const entryOf = new Map(ENTRIES.map((entry) => [functionNameOf(entry), entry]));

      // WHEN
      const report = functions.map((fn) => {
        const name = fn.FunctionName as string;
        const entry = entryOf.get(name);
        const set = environmentOf(fn);
        const read = entry === undefined ? [] : readBy(entry);
        return {
          variant,
          name,
          entry,
          readButNotSet: read.filter((key) => !set.includes(key) && !lambdaSet.has(key)),
          setButNotRead: set.filter((key) => !read.includes(key) && !runtime.has(key)),
          setButLambdaSets: set.filter((key) => lambdaSet.has(key)),
        };
      });

      // THEN
      expect(report).toEqual(
        functions.map((fn) => ({
          variant,
          name: fn.FunctionName,
          entry: expect.any(String),
          readButNotSet: [],
          setButNotRead: [],
          setButLambdaSets: [],
        })),
      );
    }
    expect(
      stacks.map(([, { template }]) => resourcesOfType(template, 'AWS::Lambda::Function').length),
    ).toEqual([Object.keys(HANDLER_ENTRIES).length, Object.keys(HANDLER_ENTRIES).length + 1]);
  });

  it('carries the construct tuning that used to be handler-only defaults', () => {
    // GIVEN
    const tuned = synthMeshTrustStack({
      verifyTimeout: Duration.seconds(90),
      minIntermediateHeadroomDays: 14,
      minRootHeadroomDays: 30,
    });
    const settingsOf = ({ template }: SynthesizedMeshTrustStack) =>
      resourcesOfType(template, 'AWS::Lambda::Function')
        .filter(([, fn]) => fn.FunctionName === 'meshtrust-payments-preflight')
        .map(([, fn]) => {
          const variables = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
          return [
            VERIFY_TIMEOUT_SECONDS_ENV,
            MIN_INTERMEDIATE_HEADROOM_DAYS_ENV,
            MIN_ROOT_HEADROOM_DAYS_ENV,
          ].map((key) => variables[key]);
        });

    // THEN
    const [, defaults] = stacks[0] ?? [];
    expect(defaults && settingsOf(defaults)).toEqual([['60', '7', '7']]);
    expect(settingsOf(tuned)).toEqual([['90', '14', '30']]);
  });
});
