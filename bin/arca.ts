/**
 * The CDK app: one `ArcaStack`, its props from context (`cdk deploy -c maxVersionsPerAsset=50`, see
 * lib/context.ts), checked by the cdk-nag AwsSolutions pack. Synth fails on any finding not acknowledged
 * with a reason in lib/guardrails.ts.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArcaStack } from '../lib/stack.ts';
import { consolePropsFromContext, registryPropsFromContext } from '../lib/context.ts';

const app = new App();
const stackName: unknown = app.node.tryGetContext('stackName');
new ArcaStack(app, typeof stackName === 'string' ? stackName : 'Arca', {
  description: 'Arca: serverless registry for versioned ML assets',
  registry: registryPropsFromContext(app.node),
  console: consolePropsFromContext(app.node),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
