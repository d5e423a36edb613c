import { execFile, execFileSync } from 'node:child_process';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../../scripts/lib/free-port.js';

const run = promisify(execFile);

/** Where Debian/Ubuntu put the PostgreSQL 15 server binaries (override with `PG_BIN`). */
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** Postgres refuses to run as root: as root, the binaries run as this OS user. */
const OS_USER = 'postgres';

/**
 * A private PostgreSQL cluster in a temporary folder, on a fixed free port, so a test can crash
 * it (`stop()`: `pg_ctl stop -m immediate`, no shutdown checkpoint, clients cut) and start it
 * again (`start()`: crash recovery, same port, same data) without touching the machine's shared
 * Postgres that other tests use. Trust authentication, user `postgres`, fsync off (the data only
 * has to survive a server crash, not a machine crash). `destroy()` stops it and removes the
 * folder; a process exit does the same as a last resort, so no cluster outlives the test run.
 *
 * @example
 * const pg = await PrivatePostgres.start();
 * try { await pg.createDatabase('test'); process.env.X = pg.url('test'); await pg.stop(); await pg.start(); } finally { await pg.destroy(); }
 */
export class PrivatePostgres {
  private up = false;
  private destroyed = false;
  private readonly onExit = () => this.destroySync();

  private constructor(
    readonly port: number,
    /** The temporary folder: `data/` (the cluster), the Unix socket, `postgres.log`. */
    readonly dir: string,
    /** Run the binaries as `postgres` (we are root) or as ourselves. */
    private readonly asUser: string | undefined,
  ) {}

  /** initdb in a new temporary folder, then `start()`. */
  static async start(): Promise<PrivatePostgres> {
    const asUser = process.getuid?.() === 0 ? OS_USER : undefined;
    const dir = await mkdtemp(join(tmpdir(), 'jobs-system-pg-'));
    const server = new PrivatePostgres(await freePort(), dir, asUser);
    process.once('exit', server.onExit);
    try {
      if (asUser) {
        const [uid, gid] = await Promise.all([run('id', ['-u', asUser]), run('id', ['-g', asUser])]);
        await chown(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
      }
      await server.pg('initdb', ['-D', server.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
      await server.start();
    } catch (err) {
      const log = await server.output();
      await server.destroy();
      throw new Error(`private postgres did not start: ${(err as Error).message}\n${log}`);
    }
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  get running(): boolean {
    return this.up;
  }

  /** A connection URL for `database` over TCP on 127.0.0.1. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** The server log (every incarnation). */
  async output(): Promise<string> {
    return (await readFile(this.logFile, 'utf8').catch(() => '')).slice(-20_000);
  }

  /** Starts the server on the same port and folder (crash recovery after `stop()`); resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.up) throw new Error('postgres is already running');
    const options = ['-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'];
    await this.pg('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-o', options.join(' '), '-w', '-t', '30', 'start']);
    this.up = true;
  }

  /**
   * A crash as clients see it: `pg_ctl stop -m immediate` (every backend quits at once, no
   * shutdown checkpoint; the next start runs crash recovery). Resolves once the server is gone
   * and the port refuses connections.
   */
  async stop(): Promise<void> {
    if (!this.up) return;
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    this.up = false;
  }

  /** `create database <name>` (through the `postgres` maintenance database). */
  async createDatabase(name: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`create database "${name}"`);
    } finally {
      await client.end();
    }
  }

  /** Stops it for good and removes its folder. Safe to call more than once. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await this.stop().catch(() => undefined);
    this.destroyed = true;
    process.off('exit', this.onExit);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The same, synchronously, for a process that exits without `destroy()` (e.g. a crash of the test runner). */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      if (this.up) execFileSync(...this.command('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
    } catch {
      // best effort
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private command(binary: string, args: string[]): [string, string[]] {
    const path = join(PG_BIN, binary);
    return this.asUser ? ['runuser', ['-u', this.asUser, '--', path, ...args]] : [path, args];
  }

  private async pg(binary: string, args: string[]): Promise<void> {
    const [file, argv] = this.command(binary, args);
    try {
      await run(file, argv, { cwd: this.dir, timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`${binary} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }
}
