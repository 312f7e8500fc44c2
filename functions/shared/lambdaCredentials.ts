/**
 * Stands in for `@aws-sdk/credential-provider-node` in the function bundles (esbuild `--alias`,
 * `functionBundling` in lib/registry.ts). The SDK clients import its `defaultProvider`, the whole default
 * chain: environment, SSO, INI files, web identity, ECS and IMDS, with the STS and SSO clients
 * (`@aws-sdk/nested-clients`) behind them, ~90 KiB of every bundle. On Lambda only its first link ever
 * answers: the runtime hands the function its role's credentials in AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Unbundled code (tests, local mode) keeps the real chain.
 */
import { fromEnv } from '@aws-sdk/credential-providers';

export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
