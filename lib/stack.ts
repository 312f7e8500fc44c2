/** `ArcaStack`: one `AssetRegistry` and the outputs a deployment needs (SPEC R-DEPLOY). */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AssetRegistry, type AssetRegistryProps } from './registry.ts';
import { TABLES, type TableName } from '../contract/tables.ts';

export interface ArcaStackProps extends StackProps {
  readonly registry?: AssetRegistryProps;
}

export class ArcaStack extends Stack {
  public readonly registry: AssetRegistry;

  constructor(scope: Construct, id: string, props: ArcaStackProps = {}) {
    super(scope, id, props);
    this.registry = new AssetRegistry(this, 'Registry', props.registry);
    new CfnOutput(this, 'ApiUrl', { value: this.registry.api.apiEndpoint, description: 'Base URL of the HTTP API (append /v1/...)' });
    new CfnOutput(this, 'BucketName', { value: this.registry.bucket.bucketName, description: 'Blob bucket' });
    new CfnOutput(this, 'EventBusName', { value: this.registry.bus.eventBusName, description: 'EventBridge bus of registry events' });
    for (const name of Object.keys(TABLES) as TableName[]) {
      new CfnOutput(this, `${TABLES[name].id}TableName`, { value: this.registry.tables[name].tableName });
    }
  }
}
