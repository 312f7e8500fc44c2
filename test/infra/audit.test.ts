/** The audit table is append-only for every function of the stack (lib/access.ts `append`). */
import { describe, expect, it } from 'vitest';
import { logicalId, resourcesOf, synth } from './synth.ts';

const { stack, template } = synth();
const auditId = logicalId(stack.registry.tables.audit);

type Statement = { Action: string | string[]; Resource: unknown };
const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap((p) =>
  ((p.Properties.PolicyDocument as { Statement: Statement[] }).Statement ?? []).map((s) => ({ roles: JSON.stringify(p.Properties.Roles), ...s })),
);
const onAudit = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${auditId}"`));
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('audit table (issue 9)', () => {
  it('is granted to functions, but no role may update, delete or batch-write an entry', () => {
    expect(onAudit.length).toBeGreaterThan(0);
    const granted = onAudit.flatMap(actions);
    expect(granted).toContain('dynamodb:PutItem');
    expect(granted).toContain('dynamodb:Query');
    expect(granted.filter((a) => /UpdateItem|DeleteItem|BatchWriteItem|\*/.test(a))).toEqual([]);
  });

  it('the write function and the sweeper may append; the read function may only read', () => {
    const writers = onAudit.filter((s) => actions(s).includes('dynamodb:PutItem')).map((s) => s.roles);
    const roleOf = (fn: keyof typeof stack.registry.apiFunctions) => logicalId(stack.registry.apiFunctions[fn].role!);
    expect(writers.some((r) => r.includes(roleOf('write')))).toBe(true);
    expect(writers.some((r) => r.includes(logicalId(stack.registry.sweeperFunction.role!)))).toBe(true);
    expect(writers.some((r) => r.includes(roleOf('read')))).toBe(false);
  });
});
