/**
 * The construct embedded in another team's stack (SPEC R-DEPLOY "one reusable construct"): a function the
 * team adds after construction gets the same treatment as the registry's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AssetRegistry } from '../../lib/registry.ts';
import { actionsOfRole, logicalId, newApp, resourcesOf } from './synth.ts';

describe('AssetRegistry embedded in another stack', () => {
  const app = newApp();
  const stack = new Stack(app, 'TeamPlatform');
  const registry = new AssetRegistry(stack, 'Models', { maxVersionsPerAsset: 50 });
  const reporter = registry.addFunction('Reporter', { entry: 'functions/jobs/sweeper.ts', access: { tables: { versions: 'read' } } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  const template = Template.fromStack(stack);

  it('passes cdk-nag with no unacknowledged finding, the added function included', () => {
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    expect(report.pluginReports.filter((r) => r.pluginName.includes('AwsSolutions')).flatMap((r) => r.violations)).toEqual([]);
  });

  it('grants the added function exactly its declared access', () => {
    const actions = actionsOfRole(template, logicalId(reporter.role!));
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']),
    );
    expect(actions.filter((a) => a.startsWith('s3:'))).toEqual([]);
    expect(actions.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite)/.test(a))).toEqual([]);
    const policies = JSON.stringify(
      Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) =>
        (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === logicalId(reporter.role!)),
      ),
    );
    expect(policies).toContain(logicalId(registry.tables.versions));
    expect(policies).not.toContain(logicalId(registry.tables.assets));
  });

  it('gives the added function Node.js 24 on arm64, the registry settings and its alarms', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(reporter)]!;
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    expect((fn.Properties.Environment as { Variables: Record<string, string> }).Variables.ARCA_MAX_VERSIONS_PER_ASSET).toBe('50');
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarms).toContainEqual(expect.objectContaining({ MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(reporter) } }] }));
    }
  });
});
