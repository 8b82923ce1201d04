import { cycles, levels, stronglyConnected, type Successors } from '../../../lib/domain/graph-algorithms';

/** `a>b,c b>c`: a's successors are b and c, b's is c. */
function graph(text: string): Successors {
  return new Map(
    text
      .split(' ')
      .filter(Boolean)
      .map((part) => {
        const [from, to] = part.split('>') as [string, string];
        return [from, to.split(',')];
      }),
  );
}

const nodesOf = (next: Successors) => [...new Set([...next.keys(), ...[...next.values()].flat()])].sort();

describe('stronglyConnected', () => {
  it.each<[string, string, string[][]]>([
    ['a chain has one component per node', 'a>b b>c', [['a'], ['b'], ['c']]],
    ['a loop of two is one component', 'a>b b>a', [['a', 'b']]],
    ['a loop inside a chain', 'a>b b>c c>b,d', [['a'], ['b', 'c'], ['d']]],
    ['two loops sharing a node', 'a>b,c b>a c>a', [['a', 'b', 'c']]],
  ])('%s', (_why, text, expected) => {
    const next = graph(text);
    expect(stronglyConnected(nodesOf(next), next).map((c) => [...c].sort()).sort()).toEqual(expected);
  });

  it('walks a chain of 100,000 nodes without overflowing the stack', () => {
    const names = Array.from({ length: 100_000 }, (_, i) => `n${i}`);
    const next = new Map(names.slice(0, -1).map((name, i) => [name, [names[i + 1]!]]));
    expect(stronglyConnected(names, next)).toHaveLength(100_000);
  });
});

describe('cycles', () => {
  it.each<[string, string, string[][]]>([
    ['none in a diamond', 'a>b,c b>d c>d', []],
    ['a node that is its own successor', 'a>a,b', [['a', 'a']]],
    ['a loop, read from its smallest node', 'c>a a>b b>c', [['a', 'b', 'c', 'a']]],
    ['loops until every node of a tangle is on one, shortest first', 'a>b b>a,c c>a', [['a', 'b', 'a'], ['a', 'b', 'c', 'a']]],
    ['separate loops in name order', 'x>y y>x a>b b>a', [['a', 'b', 'a'], ['x', 'y', 'x']]],
  ])('%s', (_why, text, expected) => {
    const next = graph(text);
    expect(cycles(nodesOf(next), next)).toEqual(expected);
  });
});

describe('levels', () => {
  it.each<[string, string[], string, string[][]]>([
    ['a chain, one node a level', ['a'], 'a>b b>c', [['a'], ['b'], ['c']]],
    ['a diamond: the bottom after both sides', ['a'], 'a>b,c b>d c>d', [['a'], ['b', 'c'], ['d']]],
    ['the longest path decides', ['a'], 'a>b,d b>c c>d', [['a'], ['b'], ['c'], ['d']]],
    ['several first nodes', ['b', 'a'], 'a>c b>c', [['a', 'b'], ['c']]],
    ['a loop stops where the walk first meets it', ['a'], 'a>b b>c c>b', [['a'], ['b'], ['c']]],
    ['a node that is its own successor is placed once', ['a'], 'a>a,b', [['a'], ['b']]],
    ['nothing first, nothing placed', [], 'a>b', []],
  ])('%s', (_why, first, text, expected) => {
    expect(levels(first, graph(text))).toEqual(expected);
  });
});
