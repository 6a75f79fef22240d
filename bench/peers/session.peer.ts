/**
 * Sessions: an authenticated `GET /auth/me` (SessionModule, session-protected route) served with our
 * RedisSessionStore vs the same module with connect-redis 8.1 swapped in on the same ioredis client (the server
 * setup of bench/session.bench.ts). Unlike that bench, the two servers are loaded one at a time, in alternating
 * rounds (autocannon in a child process, BENCH_CONNECTIONS=16 connections, BENCH_DURATION_S=2 s per round).
 * A second row gives the server's CPU per request in the same rounds (`process.cpuUsage()` of this process, where
 * both servers run, over the requests autocannon completed; ratio ours / peer, lower is better): req/s moves with
 * whatever else the machine runs during a round, CPU per request much less.
 */
import type { RedisServer } from '../../test/support/redis-harness';
import { median } from '../support/bench-runner';
import { autocannon, loginCookie, startApp, type Measured } from '../session.bench';
import { PEER_TARGET, peerRow, type PeerGroup } from './peer-suite';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Rounds per side: 4 with the default BENCH_DURATION_MS (5000), fewer when it is shortened. */
const ROUNDS = Math.max(2, Math.round(Number(process.env.BENCH_DURATION_MS ?? 5000) / 1250));

export const sessionPeers: PeerGroup = {
  name: 'session',
  setup: async (server: RedisServer) => {
    const ours = await startApp(server.url, 'ours');
    const peer = await startApp(server.url, 'connect-redis');
    const cookies = { ours: await loginCookie(ours.url), peer: await loginCookie(peer.url) };
    const get = async (url: string, cookie: string): Promise<Measured> => {
      const m = await autocannon(`${url}/auth/me`, ['-H', `Cookie=${cookie}`]);
      if (m.non2xx > 0 || m.errors > 0) throw new Error(`${url}: ${m.non2xx} non-2xx, ${m.errors} errors`);
      return m;
    };
    const measured = async () => {
      await get(ours.url, cookies.ours); // warm-up (JIT, connections)
      await get(peer.url, cookies.peer);
      const o: Measured[] = [];
      const p: Measured[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) {
          o.push(await get(ours.url, cookies.ours));
          p.push(await get(peer.url, cookies.peer));
        } else {
          p.push(await get(peer.url, cookies.peer));
          o.push(await get(ours.url, cookies.ours));
        }
      }
      return [
        peerRow({
          group: 'session',
          case: 'GET /auth/me: RedisSessionStore / connect-redis 8.1',
          callers: String(CONNECTIONS),
          ours: median(o.map((m) => m.reqPerSec)),
          peer: median(p.map((m) => m.reqPerSec)),
          unit: 'req/s',
          ratio: median(o.map((m, i) => m.reqPerSec / p[i].reqPerSec)),
          target: PEER_TARGET,
        }),
        peerRow({
          group: 'session',
          case: 'GET /auth/me server CPU per request: RedisSessionStore / connect-redis 8.1',
          callers: String(CONNECTIONS),
          ours: Math.round(median(o.map((m) => m.cpuUsPerReq))),
          peer: Math.round(median(p.map((m) => m.cpuUsPerReq))),
          unit: 'µs/req',
          ratio: median(o.map((m, i) => m.cpuUsPerReq / p[i].cpuUsPerReq)),
          target: PEER_TARGET,
          better: 'lower',
        }),
      ];
    };
    return {
      cases: [],
      measured,
      teardown: async () => {
        await ours.app.close();
        await peer.app.close();
      },
    };
  },
};
