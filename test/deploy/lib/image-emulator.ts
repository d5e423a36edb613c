import { execFile } from 'node:child_process';
import { cp, mkdir, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { copyArgs, type Dockerfile, type Stage } from './dockerfile.js';
import { root } from './deployment.js';

const run = promisify(execFile);

/**
 * Lays out a Dockerfile's stages on disk the way `docker build` would, for a machine with no
 * Docker engine. `COPY` and `RUN` of the stages are carried out in folders under `dir`, with
 * `/app` (the WORKDIR) mapped to each stage's folder, except:
 * - the `build` stage is not run: its output is the repository's own `tsc -b` output, so
 *   `COPY --from=build /app/x` reads `<repo>/x` (compile first);
 * - `RUN` in the last stage is not run (it only trims the base image).
 * Returns the folder of the last stage, ready to run its `CMD` in.
 *
 * @example
 * const app = await emulateImage(parseDockerfile(text), tmp);
 * spawn('node', ['services/api/dist/main.js'], { cwd: app });
 */
export async function emulateImage(dockerfile: Dockerfile, dir: string): Promise<string> {
  const folders = new Map<string, string>();
  const last = dockerfile.stages.at(-1)!;
  for (const [index, stage] of dockerfile.stages.entries()) {
    const name = stage.name ?? String(index);
    if (name === 'build') {
      folders.set(name, root);
      continue;
    }
    const folder = join(dir, name);
    await mkdir(folder, { recursive: true });
    folders.set(name, folder);
    await runStage(stage, folder, folders, stage === last);
  }
  return folders.get(last.name ?? String(dockerfile.stages.length - 1))!;
}

async function runStage(stage: Stage, folder: string, folders: Map<string, string>, isLast: boolean): Promise<void> {
  for (const instruction of stage.instructions) {
    if (instruction.keyword === 'WORKDIR' && instruction.rest !== '/app') throw new Error(`emulation expects WORKDIR /app, got ${instruction.rest}`);
    if (instruction.keyword === 'COPY') {
      const { from, sources, dest } = copyArgs(instruction);
      for (const source of sources) {
        let origin: string;
        if (from === undefined) origin = join(root, source);
        else {
          const base = folders.get(from);
          if (!base) throw new Error(`COPY --from=${from}: no such stage before this one`);
          if (!source.startsWith('/app/')) throw new Error(`COPY --from=${from}: expected a path under /app, got ${source}`);
          origin = join(base, source.slice('/app/'.length));
        }
        const isDir = (await stat(origin)).isDirectory();
        const target = dest.endsWith('/') && !isDir ? join(folder, dest, posix.basename(source)) : join(folder, dest);
        await mkdir(isDir ? target : dirname(target), { recursive: true });
        // verbatimSymlinks keeps npm's relative workspace links (node_modules/@jobs/shared -> ../../shared).
        await cp(origin, target, { recursive: true, verbatimSymlinks: true });
      }
    }
    if (instruction.keyword === 'RUN' && !isLast) {
      await run('sh', ['-c', instruction.rest], {
        cwd: folder,
        // The packages come from npm's cache, filled by the repository's own `npm ci`.
        env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', npm_config_loglevel: 'error' },
        maxBuffer: 16 * 1024 * 1024,
      });
    }
  }
}
