#!/usr/bin/env -S npx tsx
import { App } from 'aws-cdk-lib';
import { meshTrustStackPropsFromContext } from '../lib/app-context.js';
import { MeshTrustStack } from '../lib/mesh-trust-stack.js';

// The CDK app: one stack per mesh, configured from cdk.json context or `-c key=value` (docs/deploy.md).
const app = new App();
const props = meshTrustStackPropsFromContext((key) => app.node.tryGetContext(key));
new MeshTrustStack(app, props.stackName, props);
app.synth();
