import { describe, expect, it } from 'vitest';
import { parseYamlSubset, YamlSubsetError } from './support/yaml-subset.ts';

describe('the YAML subset reader the compose tests rely on', () => {
  it('reads block mappings, sequences, scalars and comments', () => {
    const text = [
      '# a comment',
      'name: runbox',
      'services:',
      '  app:',
      '    read_only: true # trailing comment',
      "    user: '10001:10001'",
      '    cpus: 1.5',
      '    pids_limit: 100',
      '    cap_add: []',
      '    security_opt: [no-new-privileges:true, "seccomp=./a b.json"]',
      '    tmpfs:',
      '      - /tmp:size=64m',
      '    environment:',
      '      - A',
      '      - B=c # d',
      '    healthcheck:',
      '      test:',
      '        - CMD',
      '        - -e',
      '        - "it\'s #1: \\"x\\""',
      '    volumes:',
      '      - type: volume',
      '        source: data',
      '        target: /data',
      '    labels:',
      '    - a=b',
      '    empty:',
      'volumes:',
      '  data:',
    ].join('\n');
    expect(parseYamlSubset(text)).toEqual({
      name: 'runbox',
      services: {
        app: {
          read_only: true,
          user: '10001:10001',
          cpus: 1.5,
          pids_limit: 100,
          cap_add: [],
          security_opt: ['no-new-privileges:true', 'seccomp=./a b.json'],
          tmpfs: ['/tmp:size=64m'],
          environment: ['A', 'B=c'],
          healthcheck: { test: ['CMD', '-e', 'it\'s #1: "x"'] },
          volumes: [{ type: 'volume', source: 'data', target: '/data' }],
          labels: ['a=b'],
          empty: null,
        },
      },
      volumes: { data: null },
    });
  });

  it.each([
    ['an anchor', 'a: &x 1'],
    ['an alias', 'a: *x'],
    ['a tag', 'a: !!str 1'],
    ['a block scalar', 'a: |\n  text'],
    ['a flow mapping', 'a: {b: 1}'],
    ['a duplicate key', 'a: 1\na: 2'],
    ['a tab', 'a:\n\tb: 1'],
    ['a multi-line plain scalar', 'a: one\n  two'],
    ['a second document', 'a: 1\n---\nb: 2'],
    ['an ambiguous plain scalar', 'a: b: c'],
  ])('refuses %s instead of guessing', (_what, text) => {
    expect(() => parseYamlSubset(text)).toThrow(YamlSubsetError);
  });
});
