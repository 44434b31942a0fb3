import request from 'supertest';
import { createTestApp, type TestApp } from './create-test-app';
import { TmuxTestServer } from './tmux-server';
import { waitFor } from './wait-for';

/** The standard team of contract §1 (00, 10-13, 20-23, 30-33), in roster order. */
export const STANDARD_IDS = [
  '00',
  '10',
  '11',
  '12',
  '13',
  '20',
  '21',
  '22',
  '23',
  '30',
  '31',
  '32',
  '33',
];

/** A RunsRequest agent whose prompt is `<prefix> <id>`, so a spec can tell the prompts apart. */
export const teamAgent = (id: string, prefix = 'hello') => ({ id, prompt: `${prefix} ${id}` });

/** A RunsRequest body for the standard team. */
export function standardTeam(prefix = 'hello') {
  return {
    agents: {
      metaManager: teamAgent('00', prefix),
      units: [1, 2, 3].map((u) => ({
        unitId: u,
        manager: teamAgent(`${u}0`, prefix),
        workers: [1, 2, 3].map((x) => teamAgent(`${u}${x}`, prefix)),
      })),
    },
  };
}

export interface ReadyTeam {
  server: TmuxTestServer;
  t: TestApp;
  session: { sessionId: string; tmuxSession: string };
  close(): Promise<void>;
}

/**
 * A private tmux server, the service on it, and one standard team created through POST /runs whose
 * prompts have all been delivered: the starting point of the message specs.
 */
export async function startReadyTeam(): Promise<ReadyTeam> {
  const server = TmuxTestServer.create();
  const t = await createTestApp(server, {
    MAS_PROMPT_DELAY_MS: '300',
    MAS_AGENT_LAUNCH_CHECK_MS: '200',
  });
  const session = (await request(t.http).post('/runs').send(standardTeam()).expect(201)).body;
  await waitFor(
    async () =>
      (await request(t.http).get(`/sessions/${session.sessionId}`)).body.startup?.state === 'ready',
    15000,
  );
  return {
    server,
    t,
    session,
    close: async () => {
      await t.close();
      await server.stop();
    },
  };
}
