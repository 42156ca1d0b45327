import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

// A fake GoCD server: the documented wire shapes of GET /go/api/jobs/scheduled.xml and of the
// agents API (v7: GET /go/api/agents, PATCH and DELETE /go/api/agents/{uuid}, Basic auth). The
// agents' own registration protocol is not GoCD's (test-only POST /test/register stands for it),
// and a worker reports its exit at POST /test/exit, so the test sees what GoCD's state was then.

export interface FakeJob {
  name: string;
  resources: string[];
  environment?: string;
}

export interface FakeAgent {
  uuid: string;
  hostname: string;
  elastic_agent_id: string | null;
  agent_config_state: 'Enabled' | 'Disabled' | 'Pending';
  build_state: 'Idle' | 'Building';
  key: string | null;
}

/** What happened, in order: Galley's calls, the test's changes, the workers' exits. */
export interface FakeEvent {
  type: 'disable' | 'enable' | 'delete' | 'idle' | 'building' | 'exit' | 'register';
  agent: string;
  build_state?: string;
  config_state?: string;
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export class FakeGocd {
  jobs: FakeJob[] = [];
  readonly agents = new Map<string, FakeAgent>();
  readonly events: FakeEvent[] = [];
  /** Answer scheduled.xml with this status instead (a GoCD in trouble); null = normal. */
  failScheduled: number | null = null;
  private server!: Server;
  url = '';

  constructor(
    private readonly user: string,
    private readonly password: string,
    private readonly key: string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  byHost(hostname: string): FakeAgent | undefined {
    return [...this.agents.values()].find((a) => a.hostname === hostname);
  }

  setBuildState(hostname: string, state: 'Idle' | 'Building'): void {
    const a = this.byHost(hostname);
    if (!a) throw new Error(`no agent ${hostname}`);
    a.build_state = state;
    this.events.push({ type: state === 'Idle' ? 'idle' : 'building', agent: hostname });
  }

  private scheduledXml(): string {
    const jobs = this.jobs.map(
      (j, k) =>
        `  <job name="${xmlEscape(j.name)}" id="${k + 1}">\n` +
        `    <link rel="self" href="${this.url}/go/tab/build/detail/p/1/s/1/${xmlEscape(j.name)}"/>\n` +
        `    <buildLocator>p/1/s/1/${xmlEscape(j.name)}</buildLocator>\n` +
        `    <resources>${j.resources.map((r) => `<resource><![CDATA[${r}]]></resource>`).join('')}</resources>\n` +
        (j.environment ? `    <environment>${xmlEscape(j.environment)}</environment>\n` : '') +
        `    <environmentVariables/>\n  </job>\n`,
    );
    return `<?xml version="1.0" encoding="UTF-8"?>\n<scheduledJobs>\n${jobs.join('')}</scheduledJobs>\n`;
  }

  private authorized(req: IncomingMessage): boolean {
    const want = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
    return req.headers.authorization === want;
  }

  private agentJson(a: FakeAgent): Record<string, unknown> {
    return {
      _links: { self: { href: `${this.url}/go/api/agents/${a.uuid}` } },
      uuid: a.uuid,
      hostname: a.hostname,
      elastic_agent_id: a.elastic_agent_id,
      ip_address: '127.0.0.1',
      agent_config_state: a.agent_config_state,
      agent_state: a.build_state === 'Building' ? 'Building' : 'Idle',
      build_state: a.build_state,
      resources: [],
      environments: [],
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const send = (status: number, type: string, text: string) => {
      res.statusCode = status;
      res.setHeader('content-type', type);
      res.end(text);
    };
    const json = (status: number, value: unknown) =>
      send(status, 'application/vnd.go.cd.v7+json; charset=utf-8', JSON.stringify(value));
    const path = (req.url ?? '').split('?')[0]!;
    if (path === '/test/register' && req.method === 'POST') {
      const r = JSON.parse(body) as { hostname: string; elastic_agent_id?: string; key?: string };
      const a: FakeAgent = {
        uuid: randomUUID(),
        hostname: r.hostname,
        elastic_agent_id: r.elastic_agent_id ?? null,
        // GoCD enables an agent that registers with the server's auto-register key; else it is Pending.
        agent_config_state: r.key === this.key ? 'Enabled' : 'Pending',
        build_state: 'Idle',
        key: r.key ?? null,
      };
      this.agents.set(a.uuid, a);
      this.events.push({ type: 'register', agent: a.hostname, config_state: a.agent_config_state });
      return send(200, 'text/plain', 'ok');
    }
    if (path === '/test/exit' && req.method === 'POST') {
      const { hostname } = JSON.parse(body) as { hostname: string };
      const a = this.byHost(hostname);
      this.events.push({
        type: 'exit',
        agent: hostname,
        build_state: a?.build_state ?? 'gone',
        config_state: a?.agent_config_state ?? 'gone',
      });
      return send(200, 'text/plain', 'ok');
    }
    if (!this.authorized(req))
      return send(401, 'application/json', '{"message":"You are not authenticated!"}');
    if (path === '/go/api/jobs/scheduled.xml' && req.method === 'GET') {
      if (this.failScheduled !== null) return send(this.failScheduled, 'text/html', 'unavailable');
      return send(200, 'application/xml', this.scheduledXml());
    }
    const agentPath = /^\/go\/api\/agents(?:\/([^/]+))?$/.exec(path);
    if (agentPath) {
      if (req.headers.accept !== 'application/vnd.go.cd.v7+json')
        return json(404, { message: 'The url you are trying to reach appears to be incorrect.' });
      const uuid = agentPath[1];
      if (!uuid && req.method === 'GET')
        return json(200, {
          _links: { self: { href: `${this.url}/go/api/agents` } },
          _embedded: { agents: [...this.agents.values()].map((a) => this.agentJson(a)) },
        });
      const a = uuid ? this.agents.get(decodeURIComponent(uuid)) : undefined;
      if (!a)
        return json(404, {
          message: 'Either the resource you requested was not found, or you are not authorized.',
        });
      if (req.method === 'PATCH') {
        const { agent_config_state: state } = JSON.parse(body) as { agent_config_state?: string };
        if (state !== 'Enabled' && state !== 'Disabled')
          return json(422, { message: 'bad agent_config_state' });
        a.agent_config_state = state;
        this.events.push({
          type: state === 'Disabled' ? 'disable' : 'enable',
          agent: a.hostname,
          build_state: a.build_state,
        });
        return json(200, this.agentJson(a));
      }
      if (req.method === 'DELETE') {
        // GoCD deletes only disabled agents.
        if (a.agent_config_state !== 'Disabled')
          return json(406, { message: `Failed to delete agent ${a.uuid}: it is not disabled` });
        this.agents.delete(a.uuid);
        this.events.push({ type: 'delete', agent: a.hostname, build_state: a.build_state });
        return json(200, { message: 'Deleted 1 agent(s).' });
      }
    }
    return send(404, 'text/plain', 'not found');
  }
}
