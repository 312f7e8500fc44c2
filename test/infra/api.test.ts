import { describe, expect, it } from 'vitest';
import { gatewayRouteKeys, ROUTE_GROUPS } from '../../contract/routes.ts';
import { logicalId, resourcesOf, synth } from './synth.ts';

const { stack, template } = synth();
const registry = stack.registry;
const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route'));
const integrations = resourcesOf(template, 'AWS::ApiGatewayV2::Integration');

/** The function behind a route's target (`integrations/<integration id>`). */
function functionOf(target: unknown): string {
  const [, [, ref]] = (target as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'];
  const integration = integrations[ref.Ref]!;
  return (integration.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** Written out rather than derived from the route table, so a route opened by mistake fails here. */
const OPEN = ['GET /v1/health', 'GET /v1/openapi.json'];

describe('HTTP API (SPEC R-API, R-SEC)', () => {
  it('has exactly the gateway routes that contract/routes.ts derives', () => {
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([...gatewayRouteKeys().keys()].sort());
  });

  it('authorizes every route with IAM except GET /v1/health and GET /v1/openapi.json', () => {
    for (const route of routes) {
      const expected = OPEN.includes(route.Properties.RouteKey as string) ? 'NONE' : 'AWS_IAM';
      expect({ route: route.Properties.RouteKey, auth: route.Properties.AuthorizationType }).toEqual({
        route: route.Properties.RouteKey,
        auth: expected,
      });
    }
  });

  it('sends each route to the function of its group', () => {
    const groupOfFunction = new Map(ROUTE_GROUPS.map((g) => [logicalId(registry.apiFunctions[g]), g]));
    for (const route of routes) {
      const group = groupOfFunction.get(functionOf(route.Properties.Target));
      expect({ route: route.Properties.RouteKey, group }).toEqual({
        route: route.Properties.RouteKey,
        group: gatewayRouteKeys().get(String(route.Properties.RouteKey)),
      });
    }
  });

  it('logs every request and throttles the stage', () => {
    const [stage] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'));
    expect(stage!.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [logicalId(registry.node.findChild('ApiAccessLogs')), 'Arn'] } },
    });
    const format = JSON.parse(String((stage!.Properties.AccessLogSettings as { Format: string }).Format)) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', caller: '$context.identity.userArn', status: '$context.status' });
  });

  it('alarms on 5xx answers, and on errors and throttles of every function', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms).toContainEqual(expect.objectContaining({ MetricName: '5xx', Namespace: 'AWS/ApiGateway' }));
    for (const fn of registry.functions.values()) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms).toContainEqual(
          expect.objectContaining({
            MetricName: metric,
            Namespace: 'AWS/Lambda',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
          }),
        );
      }
    }
  });
});
