/**
 * A bounded folder of call records waiting for the database. One file per record, written to a
 * temporary name and renamed, so a crash leaves either a whole record or none; files are named by
 * time so the oldest are written first. Records hold PHI: the folder is private to the service's
 * user (0700, files 0600). A record is deleted only after the database accepted it, and writing
 * is idempotent (by record id), so a crash between the two writes it once.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logging/logger';
import type { CallRecord } from './call-record';

const SUFFIX = '.call.json';

export class CallSpool {
  private count = 0;
  private sequence = 0;

  constructor(
    readonly dir: string,
    private readonly maxRecords: number,
    private readonly logger?: Logger,
  ) {}

  /** Creates the folder and counts what an earlier run left in it. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = await readdir(this.dir);
    for (const name of names) if (name.endsWith('.tmp')) await unlink(path.join(this.dir, name)).catch(() => undefined);
    this.count = names.filter((n) => n.endsWith(SUFFIX)).length;
  }

  /** Records waiting. */
  get size(): number {
    return this.count;
  }

  /** Keeps the record; false (the record is lost) when the spool is full. */
  async put(record: CallRecord): Promise<boolean> {
    if (this.count >= this.maxRecords) return false;
    this.count++;
    const name = `${String(Date.now()).padStart(15, '0')}-${String(this.sequence++ % 1e6).padStart(6, '0')}-${record.id}${SUFFIX}`;
    const file = path.join(this.dir, name);
    try {
      await writeFile(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
      await rename(`${file}.tmp`, file);
      return true;
    } catch (error) {
      this.count--;
      throw error;
    }
  }

  /**
   * Hands the waiting records to `write`, oldest first, in batches, deleting each batch once
   * written. Stops at the first failure (the database is still down) by throwing it.
   */
  async drain(write: (records: CallRecord[]) => Promise<void>, batchSize = 50): Promise<number> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(SUFFIX)).sort();
    let written = 0;
    for (let i = 0; i < names.length; i += batchSize) {
      const batch = names.slice(i, i + batchSize);
      const records: CallRecord[] = [];
      const files: string[] = [];
      for (const name of batch) {
        const file = path.join(this.dir, name);
        try {
          records.push(JSON.parse(await readFile(file, 'utf8')) as CallRecord);
          files.push(file);
        } catch {
          // Unreadable (disk damage, a hand edit): set aside rather than block every later record.
          await rename(file, `${file}.unreadable`).catch(() => undefined);
          this.count = Math.max(0, this.count - 1);
          this.logger?.error({ file: name }, 'call record spool: unreadable file set aside');
        }
      }
      await write(records);
      for (const file of files) {
        await unlink(file);
        this.count = Math.max(0, this.count - 1);
      }
      written += records.length;
    }
    return written;
  }
}
