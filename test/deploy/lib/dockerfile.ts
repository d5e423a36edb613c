/** One Dockerfile instruction, continuation lines joined, flags (`--from=build`) split off. */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** Everything after the keyword and its flags. */
  rest: string;
}

export interface Stage {
  /** `FROM <image> AS <name>`: the image with build args substituted. */
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** `ARG`s declared before the first `FROM`, with their defaults. */
  args: Record<string, string>;
  stages: Stage[];
}

/**
 * A small Dockerfile reader for tests: enough to check what each stage copies, runs and sets.
 * Parser directives and comments are dropped; heredocs are not supported (none are used).
 *
 * @example
 * const { stages } = parseDockerfile(readFileSync('Dockerfile.api', 'utf8'));
 * stages.at(-1)!.instructions.find((i) => i.keyword === 'CMD');
 */
export function parseDockerfile(text: string): Dockerfile {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue; // also inside a continued instruction, as Docker does
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full) lines.push(full);
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', tail = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const flags: Record<string, string> = {};
    let rest = tail;
    for (let m = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest)) {
      flags[m[1]!] = m[2] ?? '';
      rest = rest.slice(m[0].length);
    }
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=', 2) as [string, string?];
      args[name] = value;
    } else if (upper === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({ image: image.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args[n] ?? ''), name, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword: upper, flags, rest });
    }
  }
  return { args, stages };
}

/** `COPY [--from=x] a b dest`: its sources and destination. */
export function copyArgs(instruction: Instruction): { from: string | undefined; sources: string[]; dest: string } {
  const parts = instruction.rest.split(/\s+/);
  return { from: instruction.flags.from, sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

/** `ENV A=b C=d` of a stage, in order. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const m of i.rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

/** The exec form of `CMD`/`ENTRYPOINT` (`["node", "x.js"]`); throws on the shell form. */
export function execForm(instruction: Instruction): string[] {
  const value: unknown = JSON.parse(instruction.rest);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`not an exec form: ${instruction.rest}`);
  return value as string[];
}
