import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { AssetRegistryProps } from '../../lib/registry.ts';
import { synthWithNag } from './synth.ts';

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; violatingResources?: { constructPath?: string }[] }[] }[];
}

describe('cdk-nag AwsSolutions (SPEC R-SEC "Checks")', () => {
  it.each([
    ['defaults', {}],
    ['jwt auth (so the console too) and object lock', { auth: { mode: 'jwt', issuer: 'https://issuer.example.com', audience: ['arca'] }, objectLock: true }],
    ['removal policy DESTROY', { removalPolicy: RemovalPolicy.DESTROY }],
    ['tracing off', { tracing: 'off' }],
  ] as [string, AssetRegistryProps][])('%s: synth passes with no unacknowledged finding, warnings included', (_name, props) => {
    const { app, synth } = synthWithNag(props);
    // In-memory synth throws with the report on any unacknowledged error-level finding.
    synth();
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as Report;
    const nag = report.pluginReports.filter((r) => r.pluginName.includes('AwsSolutions'));
    expect(nag.length).toBeGreaterThan(0);
    const open = nag.flatMap((r) => r.violations.map((v) => `${v.ruleName} at ${v.violatingResources?.map((x) => x.constructPath).join(', ')}`));
    expect(open).toEqual([]);
  });

  it('an unacknowledged finding fails synth', async () => {
    const { stack, synth } = synthWithNag();
    const { Bucket } = await import('aws-cdk-lib/aws-s3');
    new Bucket(stack, 'CarelessBucket');
    expect(synth).toThrow(/AwsSolutions-S1|AwsSolutions-S10/);
  });
});
