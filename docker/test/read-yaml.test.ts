import { describe, expect, it } from 'vitest';
import { readYaml, YamlReadError } from './support/read-yaml.ts';

describe('readYaml, the reader the compose tests rely on', () => {
  it('reads mappings, sequences and scalars, with anchors and merge keys resolved', () => {
    const text = [
      'x-limits: &limits',
      '  pids_limit: 100',
      '  cpus: 1.5',
      'services:',
      '  app:',
      '    <<: *limits',
      "    user: '10001:10001'",
      '    read_only: true # a comment',
      '    security_opt: [no-new-privileges:true, "seccomp=./a b.json"]',
      '    empty:',
    ].join('\n');
    expect(readYaml(text)).toEqual({
      'x-limits': { pids_limit: 100, cpus: 1.5 },
      services: {
        app: {
          pids_limit: 100,
          cpus: 1.5,
          user: '10001:10001',
          read_only: true,
          security_opt: ['no-new-privileges:true', 'seccomp=./a b.json'],
          empty: null,
        },
      },
    });
  });

  it.each([
    ['a duplicate key', 'a: 1\na: 2'],
    ['a second document', 'a: 1\n---\nb: 2'],
    ['an unknown tag', 'a: !secret x'],
    ['a tab in the indentation', 'a:\n\tb: 1'],
    ['an undefined alias', 'a: *nowhere'],
  ])('refuses %s, naming the file', (_what, text) => {
    expect(() => readYaml(text, 'compose.yaml')).toThrow(YamlReadError);
    expect(() => readYaml(text, 'compose.yaml')).toThrow(/^compose\.yaml: /);
  });
});
