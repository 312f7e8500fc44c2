/** `ArcaStack`: one `AssetRegistry`, the console when users sign in with JWTs, and the outputs a deployment needs (SPEC R-DEPLOY). */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AssetRegistry, type AssetRegistryProps } from './registry.ts';
import { RegistryConsole, type RegistryConsoleProps } from './console.ts';
import { TABLES, type TableName } from '../contract/tables.ts';

export interface ArcaStackProps extends StackProps {
  readonly registry?: AssetRegistryProps;
  /**
   * The web console behind CloudFront (lib/console.ts), or `false` for none. It signs users in through the
   * JWT issuer, so with IAM auth it is never deployed. @default deployed when auth mode is jwt
   */
  readonly console?: Omit<RegistryConsoleProps, 'registry'> | false;
}

export class ArcaStack extends Stack {
  public readonly registry: AssetRegistry;
  /** Undefined with IAM auth or `console: false`. */
  public readonly console?: RegistryConsole;

  constructor(scope: Construct, id: string, props: ArcaStackProps = {}) {
    super(scope, id, props);
    this.registry = new AssetRegistry(this, 'Registry', props.registry);
    new CfnOutput(this, 'ApiUrl', { value: this.registry.api.apiEndpoint, description: 'Base URL of the HTTP API (append /v1/...)' });
    new CfnOutput(this, 'BucketName', { value: this.registry.bucket.bucketName, description: 'Blob bucket' });
    new CfnOutput(this, 'EventBusName', { value: this.registry.bus.eventBusName, description: 'EventBridge bus of registry events' });
    for (const name of Object.keys(TABLES) as TableName[]) {
      new CfnOutput(this, `${TABLES[name].id}TableName`, { value: this.registry.tables[name].tableName });
    }
    if (props.console !== false && this.registry.settings.auth.mode === 'jwt') {
      this.console = new RegistryConsole(this, 'Console', { registry: this.registry, ...props.console });
      new CfnOutput(this, 'ConsoleUrl', {
        value: this.console.url,
        description: 'The web console; register it (with a trailing /) as a callback URL of the sign-in client',
      });
    }
  }
}
