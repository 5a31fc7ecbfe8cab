import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { MeshTrustRotationProps } from '../../lib/mesh-trust-rotation.js';
import { type FunctionNetworkIds, MeshTrustStack } from '../../lib/mesh-trust-stack.js';
import { referencedLogicalIds, resolveDefinition } from '../../rehearsal/resolve-definition.js';

/** A fake account and region: nothing here talks to AWS, and no credentials are needed. */
export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

export interface SynthesizedMeshTrustStack {
  readonly app: App;
  readonly stack: MeshTrustStack;
  readonly template: Template;
}

export interface SynthOptions {
  /** Prepare the app before synthesis, e.g. add cdk-nag. */
  readonly prepareApp?: (app: App) => void;
  /**
   * Bundle the handlers with esbuild (slow: a few seconds for all of them). Off, CDK skips bundling
   * (context `aws:cdk:bundling-stacks` = []) and the template is the same except for asset hashes and
   * metadata. On, `app.outdir` is an assembly `meshtrust rehearse --cdk-out` runs.
   * @default false
   */
  readonly bundle?: boolean;
  /** Run the functions in this VPC (the stack's `network` prop, as cdk.json context gives it). */
  readonly network?: FunctionNetworkIds;
}

/**
 * Builds and synthesizes a MeshTrustStack for mesh `payments`. Synthesis is the slow part: call this
 * once per test file and variant, in beforeAll.
 */
export function synthMeshTrustStack(
  rotation: Partial<MeshTrustRotationProps> = {},
  options: SynthOptions = {},
): SynthesizedMeshTrustStack {
  const { prepareApp = () => {}, bundle = false, network } = options;
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'meshtrust-synth-')),
    // Bundled, the assets' paths are in the template's metadata, as `cdk synth` writes them: a
    // rehearsal can run the assembly (--cdk-out).
    context: bundle ? { 'aws:cdk:enable-asset-metadata': true } : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new MeshTrustStack(app, 'MeshTrustTest', {
    env: TEST_ENV,
    rotation: { meshId: 'payments', ...rotation },
    ...(network !== undefined && { network }),
  });
  prepareApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}

/** Every resource of a type, as [logicalId, properties]. */
export function resourcesOfType(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.findResources(type)).map(([id, resource]) => [
    id,
    (resource as { Properties: Record<string, unknown> }).Properties,
  ]);
}

/** One state of a resolved definition, with the fields the infra tests read. */
export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: AslChoiceRule[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; BackoffRate?: number; IntervalSeconds?: number }[];
  ItemProcessor?: { StartAt: string; States: Record<string, AslState> };
  [field: string]: unknown;
}

/** A Choice rule (top level carries Next; nested ones in And/Or/Not do not). */
export interface AslChoiceRule {
  Next?: string;
  Variable?: string;
  StringEquals?: string;
  And?: AslChoiceRule[];
  Or?: AslChoiceRule[];
  Not?: AslChoiceRule;
  [field: string]: unknown;
}

export interface Asl {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, AslState>;
}

/** Plain ASL of the stack's state machine, every function ARN faked from its logical id. */
export function aslOf(synthesized: SynthesizedMeshTrustStack): Asl {
  const template = synthesized.template.toJSON();
  const arns = Object.fromEntries(
    referencedLogicalIds(template).map((id) => [
      id,
      `arn:aws:lambda:${TEST_ENV.region}:${TEST_ENV.account}:function:${id}`,
    ]),
  );
  return resolveDefinition(template, { arns, pseudo: { 'AWS::Region': TEST_ENV.region } }) as unknown as Asl;
}
