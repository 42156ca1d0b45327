import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { matchingJobs, parseScheduledJobs } from '../../src/autoscaling/gocd.js';
import { numberAt } from '../../src/autoscaling/json-path.js';
import { authHeader, describeUrl } from '../../src/autoscaling/http.js';
import { jenkinsBacklog, prometheusValue, readMetric } from '../../src/autoscaling/sources.js';

// The metric sources' parsing of the documented answers, then the HTTP ones against a fake
// Jenkins and a JSON endpoint on loopback.

describe('metric sources', () => {
  it("counts GoCD's scheduled jobs an agent of the given resources and environment could take", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<scheduledJobs>
  <job name="unit &amp; lint" id="6">
    <link rel="self" href="https://gocd/go/tab/build/detail/p/1/s/1/unit"/>
    <buildLocator>p/1/s/1/unit</buildLocator>
    <resources><resource><![CDATA[linux]]></resource><resource>docker</resource></resources>
    <environment>prod</environment>
    <environmentVariables/>
  </job>
  <job name="win" id="7"><buildLocator>p/1/s/1/win</buildLocator><resources><resource>windows</resource></resources><environment>prod</environment></job>
  <job name="any" id="8"><buildLocator>p/1/s/1/any</buildLocator><resources/></job>
</scheduledJobs>`;
    const jobs = parseScheduledJobs(xml);
    expect(jobs[0]).toEqual({
      name: 'unit & lint',
      id: '6',
      resources: ['linux', 'docker'],
      environment: 'prod',
    });
    expect(matchingJobs(jobs, {}).length).toBe(3);
    expect(matchingJobs(jobs, { resources: ['linux', 'docker'] }).map((j) => j.id)).toEqual(['6', '8']);
    expect(
      matchingJobs(jobs, { resources: ['linux', 'docker'], environment: 'prod' }).map((j) => j.id),
    ).toEqual(['6']);
    expect(parseScheduledJobs('<scheduledJobs/>')).toEqual([]);
    expect(() => parseScheduledJobs('<html>login</html>')).toThrow('no <scheduledJobs>');
  });

  it("reads Prometheus' instant query answers: a scalar, a vector's sum, an empty vector as 0", () => {
    const vector = (values: string[]) => ({
      status: 'success',
      data: { resultType: 'vector', result: values.map((v) => ({ metric: {}, value: [1, v] })) },
    });
    expect(prometheusValue(vector(['3', '4.5']))).toBe(7.5);
    expect(prometheusValue(vector([]))).toBe(0);
    expect(prometheusValue({ status: 'success', data: { resultType: 'scalar', result: [1, '12'] } })).toBe(
      12,
    );
    expect(() => prometheusValue(vector(['NaN']))).toThrow('not a finite number');
    expect(() => prometheusValue({ status: 'error', error: 'parse error at char 3' })).toThrow(
      'parse error at char 3',
    );
    expect(() => prometheusValue({ status: 'success', data: { resultType: 'matrix', result: [] } })).toThrow(
      'matrix',
    );
  });

  it("counts Jenkins' waiting queue items, by label from their why", () => {
    const queue = {
      items: [
        {
          id: 1,
          blocked: false,
          buildable: true,
          why: 'Waiting for next available executor on ‘linux’',
          task: { name: 'a' },
        },
        {
          id: 2,
          blocked: false,
          buildable: true,
          why: 'There are no nodes with the label ‘windows’',
          task: { name: 'b' },
        },
        {
          id: 3,
          blocked: true,
          buildable: false,
          why: 'Build #4 is already in progress',
          task: { name: 'c' },
        },
      ],
    };
    expect(jenkinsBacklog(queue)).toBe(2);
    expect(jenkinsBacklog(queue, 'linux')).toBe(1);
    expect(() => jenkinsBacklog({})).toThrow('items');
  });

  it('finds the number at a JSON path and says where it is missing', () => {
    const doc = { stats: { 'waiting jobs': '4', queues: [{ depth: 7 }] } };
    expect(numberAt(doc, '$.stats.queues[0].depth')).toBe(7);
    expect(numberAt(doc, 'stats["waiting jobs"]')).toBe(4);
    expect(() => numberAt(doc, 'stats.queues[1].depth')).toThrow('nothing at 1');
    expect(() => numberAt(doc, 'stats.queues')).toThrow('not a finite number');
    expect(() => numberAt(doc, 'stats..x')).toThrow('is not a path');
  });

  it('takes credentials from environment variables by name, and never shows a URL’s query or user info', () => {
    expect(authHeader({ username: 'u', password_env: 'PW' }, { PW: 'secret' })).toEqual({
      authorization: `Basic ${Buffer.from('u:secret').toString('base64')}`,
    });
    expect(authHeader({ token_env: 'TOKEN' }, { TOKEN: 't' })).toEqual({ authorization: 'Bearer t' });
    expect(() => authHeader({ token_env: 'MISSING' }, {})).toThrow('environment variable MISSING');
    expect(describeUrl('https://user:pw@gocd.example/go/api/jobs/scheduled.xml?token=abc')).toBe(
      'https://gocd.example/go/api/jobs/scheduled.xml',
    );
  });
});

describe('metric sources over HTTP (fake Jenkins, a JSON endpoint)', () => {
  it('reads a Jenkins queue with Basic auth from the environment, a JSON path, and says why a read failed', async () => {
    process.env['FAKE_JENKINS_PASSWORD'] = 'jenkins-pw';
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/jenkins/queue/api/json') {
        if (req.headers.authorization !== `Basic ${Buffer.from('ci:jenkins-pw').toString('base64')}`) {
          res.statusCode = 401;
          return res.end('{}');
        }
        return res.end(
          JSON.stringify({
            _class: 'hudson.model.Queue',
            items: [
              {
                _class: 'hudson.model.Queue$BuildableItem',
                id: 9,
                blocked: false,
                buildable: true,
                why: 'Waiting for next available executor on ‘docker’',
                task: { name: 'app' },
              },
              {
                _class: 'hudson.model.Queue$BlockedItem',
                id: 10,
                blocked: true,
                buildable: false,
                why: 'Build #3 is already in progress',
                task: { name: 'app' },
              },
            ],
          }),
        );
      }
      if (req.url === '/stats') return res.end('{"queues":{"work":{"waiting":5}}}');
      res.statusCode = 503;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const ctx = { timeoutMs: 5_000, queuedRuns: async () => 0 };
    try {
      const auth = { username: 'ci', password_env: 'FAKE_JENKINS_PASSWORD' };
      expect(await readMetric({ type: 'jenkins', url: `${base}/jenkins/`, auth }, ctx)).toBe(1);
      expect(await readMetric({ type: 'jenkins', url: `${base}/jenkins`, label: 'docker', auth }, ctx)).toBe(
        1,
      );
      expect(
        await readMetric({ type: 'http', url: `${base}/stats`, json_path: 'queues.work.waiting' }, ctx),
      ).toBe(5);
      await expect(readMetric({ type: 'jenkins', url: `${base}/jenkins` }, ctx)).rejects.toThrow(
        `GET ${base}/jenkins/queue/api/json: HTTP 401`,
      );
      await expect(
        readMetric({ type: 'http', url: `${base}/down?token=abc`, json_path: 'x' }, ctx),
      ).rejects.toThrow(new RegExp(`^GET ${base}/down: HTTP 503$`));
      expect(seen[0]).toMatch(/^GET \/jenkins\/queue\/api\/json Basic /);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      delete process.env['FAKE_JENKINS_PASSWORD'];
    }
  });
});
