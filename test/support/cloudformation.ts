// A packaged CloudFormation template read the way CloudFormation reads it, for tests that create
// its resources on an emulator: the intrinsic functions the template uses are resolved against
// the physical ids and attributes of what the test created. A function or reference the test did
// not provide for is an error, never a guess.
export type Json = Record<string, unknown>;

export interface TemplateResource {
  Type: string;
  Properties: Json;
  DependsOn?: unknown;
}

export interface CloudFormationTemplate {
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, unknown>;
}

/** What a created resource answers to `Ref` and `Fn::GetAtt`. */
export interface CreatedResource {
  ref: string;
  attributes?: Record<string, string>;
}

export interface StackScope {
  /** AWS::Region, AWS::AccountId, AWS::Partition, … */
  pseudo: Record<string, string>;
  resources: Record<string, CreatedResource>;
}

export function resourceOf(template: CloudFormationTemplate, logicalId: string, type?: string): TemplateResource {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`the template has no resource ${logicalId}`);
  if (type && resource.Type !== type) throw new Error(`${logicalId} is a ${resource.Type}, not a ${type}`);
  return resource;
}

export function resourcesOfType(template: CloudFormationTemplate, type: string): Array<[string, TemplateResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** `value` with every intrinsic function resolved in `scope`. */
export function resolve(value: unknown, scope: StackScope): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Json);
  const [first] = entries;
  if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) return intrinsic(first[0], first[1], scope);
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, scope)]));
}

export function resolveString(value: unknown, scope: StackScope): string {
  const resolved = resolve(value, scope);
  if (typeof resolved !== 'string') throw new Error(`expected a string, got ${JSON.stringify(resolved)}`);
  return resolved;
}

function intrinsic(name: string, arg: unknown, scope: StackScope): unknown {
  switch (name) {
    case 'Ref':
      return lookup(String(arg), undefined, scope);
    case 'Fn::GetAtt': {
      const [id, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
      return lookup(String(id), String(attribute), scope);
    }
    case 'Fn::Join': {
      const [delimiter, items] = arg as [unknown, unknown];
      if (typeof delimiter !== 'string') throw new Error(`Fn::Join takes a literal delimiter, not ${JSON.stringify(delimiter)}`);
      return (resolve(items, scope) as unknown[]).map(String).join(delimiter);
    }
    case 'Fn::Sub': {
      const [text, locals] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Json]);
      const values = Object.fromEntries(Object.entries(locals).map(([k, v]) => [k, resolve(v, scope)]));
      return text.replace(/\$\{([^}!]+)\}/g, (_m, ref: string) => {
        if (ref in values) return String(values[ref]);
        const [id, attribute] = ref.split('.');
        return String(lookup(String(id), attribute, scope));
      });
    }
    default:
      throw new Error(`${name} is not resolved by this test's template reader`);
  }
}

function lookup(id: string, attribute: string | undefined, scope: StackScope): string {
  if (attribute === undefined && id in scope.pseudo) return scope.pseudo[id] as string;
  const created = scope.resources[id];
  if (!created) throw new Error(`the test has not created ${id}`);
  if (attribute === undefined) return created.ref;
  const value = created.attributes?.[attribute];
  if (value === undefined) throw new Error(`the test knows no attribute ${attribute} of ${id}`);
  return value;
}
