// The Route 53 Profiles client's signed GETs (aws/route53profiles-client.ts through the GET form of
// aws/signed-json-client.ts), as they reach the wire: moto checks no signature, so a local server
// takes the request and the test signs again what arrived, as AWS verifies it. A query string sent
// other than signed (an encoding that differs) would fail AWS's check while passing every emulator test.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoute53ProfilesClient } from '../../aws/route53profiles-client.ts';
// node:crypto's SHA-256 behind Signature V4's interface: what is checked is what gets signed.
import { Sha256 } from '../../aws/signed-json-client.ts';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
let server: http.Server;
let endpoint: string;
const received: Received[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ProfileSummaries: [], ProfileResourceAssociations: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
});

/** The Authorization AWS computes for the request as it arrived: its query decoded, then signed. */
async function expectedAuthorization(request: Received): Promise<string> {
  const url = new URL(request.url, endpoint);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(request.headers.authorization))?.[1] ?? '';
  const headers = Object.fromEntries(
    signedHeaders.split(';').map((name) => [name, String(request.headers[name] ?? '')]),
  );
  const date = String(request.headers['x-amz-date']);
  const signer = new SignatureV4({
    service: 'route53profiles',
    region: 'eu-west-1',
    credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
    },
    {
      signingDate: new Date(
        `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
      ),
    },
  );
  return String(signed.headers.authorization);
}

describe('the Route 53 Profiles client', () => {
  it('sends ListProfiles and ListProfileResourceAssociations as signed GETs: the query string as signed, no body', async () => {
    received.length = 0;
    const client = createRoute53ProfilesClient({ region: 'eu-west-1', credentials, endpoint });
    // A token with characters that encodeURIComponent leaves alone but Signature V4 encodes.
    const nextToken = "a+b/c=d*e!f'(g)";
    await client.listProfiles({ maxResults: 100, nextToken });
    await client.listProfileResourceAssociations({ profileId: 'rp-0123456789abcdef' });
    expect(received.map((r) => [r.method, r.url, r.body])).toEqual([
      ['GET', '/profiles?maxResults=100&nextToken=a%2Bb%2Fc%3Dd%2Ae%21f%27%28g%29', ''],
      ['GET', '/profileresourceassociations/profileid/rp-0123456789abcdef', ''],
    ]);
    for (const request of received) {
      expect(request.headers.authorization).toContain('/eu-west-1/route53profiles/aws4_request');
      expect(request.headers.authorization).toBe(await expectedAuthorization(request));
    }
    expect(new URL(received[0]?.url ?? '', endpoint).searchParams.get('nextToken')).toBe(nextToken);
  });
});
