/**
 * Synthesizes `ArcaStack` for the infra tests. Bundling is skipped through CDK's own switch, the
 * `aws:cdk:bundling-stacks` context (what `cdk synth --exclusively` uses): `NodejsFunction` still checks
 * that every entry exists, but esbuild never runs and assets are not copied, so a synth takes well under
 * a second. `bundling.test.ts` is the one test that bundles for real.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArcaStack } from '../../lib/stack.ts';
import type { AssetRegistryProps } from '../../lib/registry.ts';

export interface Synth {
  app: App;
  stack: ArcaStack;
  template: Template;
}

/** The feature flags and settings of cdk.json, so tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

export function newApp(options: { bundle?: boolean; context?: Record<string, unknown> } = {}): App {
  return new App({
    outdir: mkdtempSync(join(tmpdir(), 'arca-cdk-')),
    context: { ...CDK_JSON_CONTEXT, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...options.context },
  });
}

export function synth(props?: AssetRegistryProps): Synth {
  const app = newApp();
  const stack = new ArcaStack(app, 'Arca', { registry: props });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Synthesizes with the AwsSolutions pack, as bin/arca.ts does; returns the policy validation report. */
export function synthWithNag(props?: AssetRegistryProps): { app: App; stack: ArcaStack; synth: () => unknown } {
  const app = newApp();
  const stack = new ArcaStack(app, 'Arca', { registry: props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, synth: () => app.synth() };
}

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

export function resourcesOf(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** The logical id of a construct's CloudFormation resource (its default child, or itself). */
export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  const stack = Stack.of(element);
  return String(stack.resolve(stack.getLogicalId(element)));
}

/** Every IAM action granted to a role by its policies (inline or attached AWS::IAM::Policy). */
export function actionsOfRole(template: Template, roleLogicalId: string): string[] {
  const actions: string[] = [];
  for (const policy of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref: string }[]) ?? [];
    if (!roles.some((r) => r.Ref === roleLogicalId)) continue;
    const doc = policy.Properties.PolicyDocument as { Statement: { Effect: string; Action: string | string[] }[] };
    for (const s of doc.Statement) if (s.Effect === 'Allow') actions.push(...[s.Action].flat());
  }
  return actions;
}
