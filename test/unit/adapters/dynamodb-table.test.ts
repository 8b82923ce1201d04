import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTableInput, keys, sequenceKey, TABLE_DEFINITION } from '../../../lib/adapters/dynamodb-table';

type Yaml = string | null | Yaml[] | { [key: string]: Yaml };
interface Line {
  indent: number;
  text: string;
}

/**
 * Just enough YAML for a CloudFormation resource written in block style: mappings, sequences
 * (`- key: value` items included), plain scalars, comments. Anything else is an error.
 */
function parseYaml(source: string): Yaml {
  const lines: Line[] = source
    .split('\n')
    .map((raw) => raw.replace(/\s+#.*$/, ''))
    .filter((raw) => raw.trim() !== '' && !raw.trim().startsWith('#'))
    .map((raw) => ({ indent: raw.length - raw.trimStart().length, text: raw.trim() }));
  let i = 0;

  const isItem = (line: Line) => line.text === '-' || line.text.startsWith('- ');
  const scalar = (text: string): string => {
    if (/^[[{&*!|>]/.test(text)) throw new Error(`unsupported YAML: ${text}`);
    return text.replace(/^(['"])(.*)\1$/, '$2');
  };

  function block(indent: number): Yaml {
    const first = lines[i];
    if (!first || first.indent !== indent) throw new Error(`bad indentation at "${first?.text}"`);
    return isItem(first) ? sequence(indent) : mapping(indent);
  }

  function sequence(indent: number): Yaml[] {
    const out: Yaml[] = [];
    for (let line = lines[i]; line && line.indent === indent && isItem(line); line = lines[i]) {
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        i += 1;
        out.push(block(lines[i]?.indent ?? indent + 2));
      } else if (/^[^\s].*?:(\s|$)/.test(rest)) {
        // `- key: value`: the item is a mapping whose keys sit where `key` starts.
        lines[i] = { indent: indent + 2, text: rest };
        out.push(mapping(indent + 2));
      } else {
        i += 1;
        out.push(scalar(rest));
      }
    }
    return out;
  }

  function mapping(indent: number): { [key: string]: Yaml } {
    const out: { [key: string]: Yaml } = {};
    for (let line = lines[i]; line && line.indent === indent && !isItem(line); line = lines[i]) {
      const match = /^(.+?):(?:\s+(.*))?$/.exec(line.text);
      if (!match?.[1]) throw new Error(`not a mapping entry: ${line.text}`);
      i += 1;
      const next = lines[i];
      if (match[2] !== undefined) out[match[1]] = scalar(match[2]);
      else if (next && next.indent > indent) out[match[1]] = block(next.indent);
      else out[match[1]] = null;
    }
    return out;
  }

  const root = block(0);
  if (i !== lines.length) throw new Error(`unparsed YAML from "${lines[i]?.text}"`);
  return root;
}

function field(value: Yaml | undefined, ...path: string[]): Yaml {
  let current = value;
  for (const key of path) {
    if (current === null || current === undefined || typeof current !== 'object' || Array.isArray(current)) {
      throw new Error(`no ${path.join('.')} in YAML`);
    }
    current = current[key];
  }
  if (current === undefined) throw new Error(`no ${path.join('.')} in YAML`);
  return current;
}

describe('the tiny YAML reader', () => {
  it('reads nested mappings, sequences of mappings and scalars', () => {
    expect(parseYaml('a:\n  b: 1\n  c:\n    - x: 1\n      y: "2"\n    - z\n# note\nd: e # trailing\n')).toEqual({
      a: { b: '1', c: [{ x: '1', y: '2' }, 'z'] },
      d: 'e',
    });
  });

  it('refuses what it does not understand instead of misreading it', () => {
    expect(() => parseYaml('a: [1, 2]\n')).toThrow(/unsupported/);
  });
});

describe('infra/table.yml', () => {
  const yaml = parseYaml(readFileSync(join(__dirname, '../../../infra/table.yml'), 'utf8'));
  const resource = field(yaml, 'Resources', 'CascadeTable');
  const properties = field(resource, 'Properties');
  const expected = createTableInput('any');

  it('is a DynamoDB table kept when the stack goes away', () => {
    expect(field(resource, 'Type')).toBe('AWS::DynamoDB::Table');
    expect(field(resource, 'DeletionPolicy')).toBe('Retain');
  });

  it('declares the same attributes and primary key as the code', () => {
    const attributes = field(properties, 'AttributeDefinitions') as Yaml[];
    expect(attributes).toEqual(expected.AttributeDefinitions);
    expect(field(properties, 'KeySchema')).toEqual(expected.KeySchema);
  });

  it('declares the same global secondary indexes as the code', () => {
    expect(field(properties, 'GlobalSecondaryIndexes')).toEqual(expected.GlobalSecondaryIndexes);
  });

  it('is on demand, with point-in-time recovery and TTL on the code’s attribute', () => {
    expect(field(properties, 'BillingMode')).toBe(expected.BillingMode);
    expect(field(properties, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled')).toBe('true');
    expect(field(properties, 'TimeToLiveSpecification')).toEqual({
      AttributeName: TABLE_DEFINITION.ttlAttribute,
      Enabled: 'true',
    });
  });
});

describe('keys', () => {
  it.each([
    [0, '000000000000'],
    [1, '000000000001'],
    [123456789012, '123456789012'],
  ])('pads sequence %d to %s', (sequence, key) => {
    expect(sequenceKey(sequence)).toBe(key);
  });

  it.each([-1, 1.5, 1e12])('refuses sequence %d', (sequence) => {
    expect(() => sequenceKey(sequence)).toThrow(RangeError);
  });

  it('orders padded sequences as numbers', () => {
    const sequences = [10, 9, 100, 1, 11];
    expect(sequences.map(sequenceKey).sort()).toEqual([1, 9, 10, 11, 100].map(sequenceKey));
  });

  it('gives an edge the same base in its key and its per-task index', () => {
    const edge = keys.dependency('127.0.0.1:5000', 'baseimages/node', '9-alpine', 'helloworld');
    expect(edge).toEqual({ PK: 'BASE#127.0.0.1:5000/baseimages/node:9-alpine', SK: 'TASK#helloworld' });
    expect(keys.dependencyInTask('127.0.0.1:5000', 'baseimages/node', '9-alpine')).toBe(edge.PK);
  });
});
