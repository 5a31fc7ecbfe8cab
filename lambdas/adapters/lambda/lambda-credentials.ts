// The AWS credentials of a handler in its bundle: those Lambda puts in the function's environment for its
// execution role (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the first source the
// SDK's default chain (@aws-sdk/credential-provider-node) tries and the one it finds in a Lambda. The
// handler bundles take this module in that package's place (HANDLER_ALIASES in lib/rotation-functions.ts):
// the chain's other sources (a profile, SSO, a credential process, a web identity token file, the
// container and instance metadata endpoints) never answer in a function, and their code, with the SSO
// clients it brings, was 86 kB of every bundle. The cluster and account roles are still assumed through STS
// (fromTemporaryCredentials, in application/runtime.ts), with these as the source credentials.
import { type FromEnvInit, fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/** The SDK clients' `credentialDefaultProvider`, as credential-provider-node exports it. */
export const defaultProvider = (init: FromEnvInit = {}): AwsCredentialIdentityProvider => fromEnv(init);
