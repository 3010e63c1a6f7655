/**
 * Two replicas of the production service (two `src/serve.ts` processes, one PostgreSQL database,
 * client trust on): a token used at one replica is refused at the other, one client's rate limit
 * holds across both, and what one replica stored the other reads. Needs TEST_DATABASE_URL;
 * jest.config.js leaves this file out when it is unset outside CI, and in CI it fails without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root';
import { closedPort } from '../support/ports';
import { clientToken, trustedIssuers } from '../security/support/tokens';
import { createPostgresDatabase, POSTGRES_URL } from './support/engines';

const PUBLIC_BASE_URL = 'https://cds.replicas.test';
const DISCOVERY_AUD = `${PUBLIC_BASE_URL}/cds-services`;
const REPLAY_ISSUER = 'https://ehr.replay.test';
const LIMIT_ISSUER = 'https://ehr.limit.test';
const ADMIN_TOKEN = 'replica-admin-token-0123456789abcdef0123456789';

interface Replica {
  url: string;
  process: ChildProcess;
  output: string[];
}

async function startReplica(databaseUrl: string, dataDir: string): Promise<Replica> {
  const port = await closedPort();
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/serve.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      PUBLIC_BASE_URL,
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      ADMIN_TOKEN,
      CDS_TRUST_CLIENTS: 'true',
      CDS_TRUSTED_ISSUERS: trustedIssuers([{ iss: REPLAY_ISSUER }, { iss: LIMIT_ISSUER }]),
      // 3 calls per 30 s window per client, across every replica.
      CDS_RATE_LIMIT_PER_MINUTE: '6',
      CDS_RATE_LIMIT_BURST: '3',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (d) => output.push(String(d)));
  child.stderr?.on('data', (d) => output.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  // Bounded wait for the replica to load the policy and open the database.
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`replica exited during startup: ${output.join('')}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, process: child, output };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`replica did not start within 60 s: ${output.join('')}`);
}

async function stopReplica(replica: Replica | undefined): Promise<void> {
  if (!replica || replica.process.exitCode !== null) return;
  const exited = new Promise((resolve) => replica.process.once('exit', resolve));
  replica.process.kill('SIGTERM');
  const timer = setTimeout(() => replica.process.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const discovery = async (replica: Replica, token: string) =>
  fetch(`${replica.url}/cds-services`, { headers: { Authorization: `Bearer ${token}` } });

if (POSTGRES_URL) {
  const serverUrl = POSTGRES_URL;
  describe('two replicas on one PostgreSQL database', () => {
    let a: Replica | undefined;
    let b: Replica | undefined;
    let dropDatabase: () => Promise<void> = async () => undefined;
    let dataDir = '';

    beforeAll(async () => {
      const created = await createPostgresDatabase(serverUrl);
      dropDatabase = created.drop;
      dataDir = await mkdtemp(path.join(tmpdir(), 'itp-replicas-'));
      // One after the other: the second finds the schema migrated by the first.
      a = await startReplica(created.url, path.join(dataDir, 'a'));
      b = await startReplica(created.url, path.join(dataDir, 'b'));
    }, 120_000);

    afterAll(async () => {
      await Promise.all([stopReplica(a), stopReplica(b)]);
      await dropDatabase();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('refuses at one replica a token already used at the other', async () => {
      const token = await clientToken({ iss: REPLAY_ISSUER, aud: DISCOVERY_AUD });
      expect((await discovery(a!, token)).status).toBe(200);
      expect((await discovery(b!, token)).status).toBe(401);
      expect((await discovery(a!, token)).status).toBe(401);
      // A fresh token is fine at either.
      expect((await discovery(b!, await clientToken({ iss: REPLAY_ISSUER, aud: DISCOVERY_AUD }))).status).toBe(200);
    });

    it("holds one client's rate limit across both replicas", async () => {
      const call = async (replica: Replica) => (await discovery(replica, await clientToken({ iss: LIMIT_ISSUER, aud: DISCOVERY_AUD }))).status;
      // Three calls in the window, spread over both replicas, pass; the fourth, at either, is refused.
      expect([await call(a!), await call(b!), await call(a!)]).toEqual([200, 200, 200]);
      const refused = await discovery(b!, await clientToken({ iss: LIMIT_ISSUER, aud: DISCOVERY_AUD }));
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await call(a!)).toBe(429);
    });

    it('reads at one replica the feedback stored by the other', async () => {
      const feedbackAud = `${PUBLIC_BASE_URL}/cds-services/intrathecal-pump-order-sign/feedback`;
      const token = await clientToken({ iss: REPLAY_ISSUER, aud: feedbackAud });
      const sent = await fetch(`${a!.url}/cds-services/intrathecal-pump-order-sign/feedback`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          feedback: [{ card: '2f6a8f1e-9a0b-4c35-8d1e-5b7c9a0d1e2f', outcome: 'accepted', acceptedSuggestions: [], outcomeTimestamp: new Date().toISOString() }],
        }),
      });
      expect(sent.status).toBe(200);
      const summary = await fetch(`${b!.url}/admin/feedback/summary?since=2000-01-01`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(summary.status).toBe(200);
      expect(await summary.json()).toMatchObject({ total: 1, byOutcome: [{ outcome: 'accepted', count: 1 }] });
    });
  });
} else {
  // jest.config.js runs this file without TEST_DATABASE_URL only in CI: there, that is a broken setup.
  it('has a PostgreSQL for the two-replica test (TEST_DATABASE_URL)', () => {
    throw new Error('TEST_DATABASE_URL is not set: .ci/run must start PostgreSQL (bash .ci/start-postgres.sh)');
  });
}
